import { ValidationError, ValidationPipe } from '@nestjs/common';

import { badRequest } from './problem';

function flatten(errors: ValidationError[], parent = ''): { field: string; message: string }[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/**
 * DTO validation for every route: unknown fields are refused, and failures
 * become one 400 problem `validation_failed` listing each field's errors.
 */
export const createValidationPipe = (): ValidationPipe =>
  new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => {
      const list = flatten(errors);
      const detail = list.map((e) => e.message).join('; ') || 'request is invalid';
      return badRequest('validation_failed', detail, { errors: list });
    },
  });
