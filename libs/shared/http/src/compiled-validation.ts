import type { Type } from '@nestjs/common';
import { defaultMetadataStorage } from 'class-transformer/cjs/storage';
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';

/*
 * A fast path for DTO validation, for the bodies of hot routes (POST /v1/tokens, refresh, the exchange):
 * class-validator looks up a class's rules on every call (walking every validated class for inheritance),
 * and with class-transformer and the pipe's own copies that was ≈ 20 % of the bytes allocated per issuance.
 *
 * The rules of a DTO class are read once from class-validator's metadata and compiled into one function
 * that either returns the instance class-transformer would have built, when the body certainly passes
 * every rule, or `undefined` when it cannot be sure (any failure, `null`, an unknown field, a rule it does not
 * know): the caller then runs the full ValidationPipe, so every error is still produced by class-validator,
 * with the same messages and problem body. A class using anything but the few rules below (groups,
 * `always`, `validateIf`, custom constraints, class-transformer's @Expose/@Exclude/@Transform) is never
 * compiled. Each check is at least as strict as class-validator's own (e.g. MaxLength counts UTF-16 units,
 * where class-validator counts a surrogate pair as one character), so the fast path never accepts a body
 * the pipe refuses (compiled-validation.spec.ts compares both on the same bodies).
 */

/** A property's checks: true when the value certainly passes its rule. */
type Check = (value: unknown) => boolean;

interface CompiledProperty {
  optional: boolean;
  checks: Check[];
  /** The property holds one object of this DTO class (@ValidateNested with @Type). */
  nested?: CompiledClass;
}

interface CompiledClass {
  construct: () => object;
  properties: Map<string, CompiledProperty>;
}

/** The body as the instance the pipe would return, or undefined: not certain, run the full pipe. */
export type CompiledBodyCheck = (value: unknown) => object | undefined;

/** Constraint checks by class-validator's constraint name (`ValidationMetadata.name`). */
const RULES: Record<string, (constraints: unknown[]) => Check | undefined> = {
  isString: () => (v) => typeof v === 'string',
  isInt: () => (v) => typeof v === 'number' && Number.isInteger(v),
  isArray: () => Array.isArray,
  isObject: () => (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  min: ([min]) => (typeof min === 'number' ? (v) => typeof v === 'number' && v >= min : undefined),
  maxLength: ([max]) => (typeof max === 'number' ? (v) => typeof v === 'string' && v.length <= max : undefined),
};

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
};

/** A value class-transformer copies as it is (an array of them: item by item, see {@link run}). */
const isScalar = (v: unknown): boolean => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** `check` of each item, for `{ each: true }`: only an array, whose every item passes (no holes). */
const eachOf = (check: Check): Check => (v) => {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!check(v[i])) return false;
  return true;
};

/** Null when any rule or option of `target` is outside what the fast path knows. */
function compileClass(target: Type<object>, seen: Set<Type<object>>): CompiledClass | null {
  if (seen.has(target)) return null; // a class nested in itself: left to the pipe
  seen.add(target);
  if (defaultMetadataStorage.getStrategy(target) !== 'none') return null;
  if (defaultMetadataStorage.getExposedMetadatas(target).length > 0 || defaultMetadataStorage.getExcludedMetadatas(target).length > 0) return null;
  const metadatas: ValidationMetadata[] = getMetadataStorage().getTargetValidationMetadatas(target, '', false, false);
  if (metadatas.length === 0) return null;

  const properties = new Map<string, CompiledProperty>();
  for (const m of metadatas) {
    if (m.always !== undefined || (m.groups !== undefined && m.groups.length > 0) || m.validateIf !== undefined) return null;
    // A getter or a method of the class: class-transformer skips those, the fast path does not try.
    if (m.propertyName in target.prototype) return null;
    if (defaultMetadataStorage.findTransformMetadatas(target, m.propertyName, 0 /* PLAIN_TO_CLASS */).length > 0) return null;
    let property = properties.get(m.propertyName);
    if (property === undefined) properties.set(m.propertyName, (property = { optional: false, checks: [] }));

    if (m.type === ValidationTypes.CONDITIONAL_VALIDATION && m.name === 'isOptional') {
      property.optional = true;
    } else if (m.type === ValidationTypes.NESTED_VALIDATION && !m.each) {
      const type = defaultMetadataStorage.findTypeMetadata(target, m.propertyName);
      if (type === undefined || type.options?.discriminator !== undefined || type.typeFunction.length > 0) return null;
      const nested = compileClass(type.typeFunction() as Type<object>, seen);
      if (nested === null) return null;
      property.nested = nested;
    } else if (m.type === ValidationTypes.CUSTOM_VALIDATION && m.name !== undefined && m.name in RULES) {
      const check = RULES[m.name](m.constraints ?? []);
      if (check === undefined) return null;
      property.checks.push(m.each ? eachOf(check) : check);
    } else {
      return null;
    }
  }
  seen.delete(target);
  return { construct: () => new target(), properties };
}

/** The instance class-transformer's plainToInstance would build, or undefined at the first doubt. */
function run(compiled: CompiledClass, value: unknown): object | undefined {
  if (!isPlainObject(value)) return undefined;
  for (const [name, property] of compiled.properties) {
    if (!property.optional && value[name] === undefined) return undefined;
  }
  const instance = compiled.construct() as Record<string, unknown>;
  for (const name of Object.keys(value)) {
    const property = compiled.properties.get(name);
    // Unknown (whitelist refuses it) or null (refused unless declared nullable): the pipe says which.
    const v = value[name];
    if (property === undefined || v === null) return undefined;
    for (const check of property.checks) if (!check(v)) return undefined;
    if (property.nested !== undefined) {
      const nested = run(property.nested, v);
      if (nested === undefined) return undefined;
      instance[name] = nested;
    } else if (isScalar(v)) {
      instance[name] = v;
    } else if (Array.isArray(v) && v.every(isScalar)) {
      instance[name] = [...(v as unknown[])]; // a copy, as class-transformer makes
    } else {
      return undefined; // an object class-transformer would copy deeply: left to it
    }
  }
  return instance;
}

const compiledChecks = new WeakMap<Type<object>, CompiledBodyCheck | null>();

/** The fast check of a DTO class's bodies, compiled once; null when the class is left to the full pipe. */
export function compiledBodyCheck(target: Type<object>): CompiledBodyCheck | null {
  let check = compiledChecks.get(target);
  if (check === undefined) {
    const compiled = compileClass(target, new Set());
    check = compiled === null ? null : (value) => run(compiled, value);
    compiledChecks.set(target, check);
  }
  return check;
}
