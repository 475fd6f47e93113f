import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import type { ValidatorOptions } from 'class-validator';

import { compiledBodyCheck } from './compiled-validation';
import { HTTP_ERRORS } from './errors';
import { badRequest } from './problem';

function flatten(errors: ValidationError[], parent = ''): { field: string; message: string }[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/** Where @nestjs/swagger keeps a property's @ApiProperty options (its DECORATORS.API_MODEL_PROPERTIES). */
const API_PROPERTY = 'swagger/apiModelProperties';

const declaredNullable = (target: object, property: string): boolean =>
  (Reflect.getMetadata(API_PROPERTY, target, property) as { nullable?: unknown } | undefined)?.nullable === true;

/** A DTO instance (transformed from the body), as opposed to a plain object or a primitive. */
const isDto = (value: unknown): value is object =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) !== Object.prototype;

/**
 * `null` where the DTO does not declare it (`@ApiProperty({ nullable: true })`),
 * at any depth. class-validator's @IsOptional skips every check for null as
 * for an absent field, so `{"permissions": null}` would otherwise reach the
 * handler as a value no code expects. Fields that already failed are left to
 * their own messages. A {@link MergePatch} body is exempt.
 */
function nullErrors(dto: object, failed: ReadonlySet<string>): ValidationError[] {
  const errors: ValidationError[] = [];
  for (const [property, value] of Object.entries(dto)) {
    if (failed.has(property)) continue;
    const error: ValidationError = { property, value, target: dto, children: [] };
    if (value === null) {
      if (!declaredNullable(dto, property)) errors.push({ ...error, constraints: { isNotNull: `${property} must not be null` } });
    } else {
      const nested = Array.isArray(value) ? value.filter(isDto) : isDto(value) ? [value] : [];
      error.children = nested.flatMap((child) => nullErrors(child, new Set()));
      if (error.children.length > 0) errors.push(error);
    }
  }
  return errors;
}

const mergePatches = new WeakSet<object>();

/**
 * Marks the DTO of a PATCH body: a merge patch, where null means "remove" (RFC 7396 §1), so the pipe leaves
 * null to the DTO's own rules (each update DTO says what null may do). A class, not the request's method,
 * says so: the pipe sees no request, and carrying the method in an AsyncLocalStorage cost every promise of
 * every request a store.
 */
export const MergePatch = (): ClassDecorator => (target) => {
  mergePatches.add(target);
};

class SignetValidationPipe extends ValidationPipe {
  /** A body that certainly passes is built by its class's compiled check; any other goes the full way. */
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && metadata.metatype !== undefined) {
      const dto = compiledBodyCheck(metadata.metatype)?.(value);
      if (dto !== undefined) return dto;
    }
    return super.transform(value, metadata);
  }

  protected override async validate(object: object, validatorOptions?: ValidatorOptions): Promise<ValidationError[]> {
    const errors = await super.validate(object, validatorOptions);
    if (mergePatches.has(object.constructor)) return errors;
    return [...errors, ...nullErrors(object, new Set(errors.map((e) => e.property)))];
  }
}

/**
 * DTO validation for every route: unknown fields are refused, `null` is
 * refused unless the field is declared nullable (or in a {@link MergePatch}), and failures become one 400
 * problem `validation_failed` listing each field's errors.
 */
export const createValidationPipe = (): ValidationPipe =>
  new SignetValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => {
      const list = flatten(errors);
      const detail = list.map((e) => e.message).join('; ') || 'request is invalid';
      return badRequest(HTTP_ERRORS.validationFailed, detail, { errors: list });
    },
  });
