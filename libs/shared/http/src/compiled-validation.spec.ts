import 'reflect-metadata';

import { ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsArray, IsEmail, IsInt, IsObject, IsOptional, IsString, MaxLength, Min, ValidateNested } from 'class-validator';

import { compiledBodyCheck } from './compiled-validation';
import { createValidationPipe } from './validation';

class Inner {
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  publish?: string[];

  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  subscribe?: string[];
}

/** The rules of the hot DTOs (IssueTokenDto, RefreshTokenDto, ExchangeDto) in one class. */
class Outer {
  @IsString()
  @MaxLength(8)
  name!: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  count?: number;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => Inner)
  inner?: Inner;

  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @IsString()
  note?: string | null;
}

class WithEmail {
  @IsEmail()
  email!: string;
}

class WithTransform {
  @IsString()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  name!: string;
}

const BODIES: unknown[] = [
  { name: 'a' },
  { name: 'abcdefgh', count: 1 },
  { count: 1, name: 'b' },
  { name: 'abcdefghi' },
  { name: '😀😀😀😀😀' }, // 5 characters, 10 UTF-16 units: the pipe accepts, the fast path leaves it to the pipe
  { name: 1 },
  {},
  { name: 'a', count: 0 },
  { name: 'a', count: 1.5 },
  { name: 'a', count: '1' },
  { name: 'a', extra: true },
  { name: 'a', count: null },
  { name: 'a', note: null },
  { name: 'a', inner: {} },
  { name: 'a', inner: { publish: ['x', 'y'], subscribe: [] } },
  { name: 'a', inner: { publish: ['x', 1] } },
  { name: 'a', inner: { publish: 'x' } },
  { name: 'a', inner: { publish: [['x']] } },
  { name: 'a', inner: { other: ['x'] } },
  { name: 'a', inner: [] },
  { name: 'a', inner: [{ publish: ['x'] }] },
  { name: 'a', inner: null },
  { name: 'a', inner: 'x' },
  { name: 'a', inner: { publish: null } },
  { name: 'a', constructor: 'x' },
  JSON.parse('{"name":"a","__proto__":{"count":2}}'),
  [],
  'a string',
  null,
  undefined,
];

const pipe = createValidationPipe();
/** Nest's pipe with Signet's options, without the fast path (the null rule aside, which the fast path never reaches). */
const fullPipe = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true });
const body = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({ type: 'body', metatype, data: undefined });

async function outcome(p: ValidationPipe, value: unknown, metatype: ArgumentMetadata['metatype']): Promise<unknown> {
  try {
    return { ok: await p.transform(structuredClone(value), body(metatype)) };
  } catch (err) {
    return { refused: (err as { getResponse?: () => unknown }).getResponse?.() ?? String(err) };
  }
}

describe('compiledBodyCheck', () => {
  it.each(BODIES.map((b) => [JSON.stringify(b) ?? String(b), b]))('agrees with class-validator on %s', async (_label, value) => {
    const fast = compiledBodyCheck(Outer)!(structuredClone(value));
    const full = await outcome(fullPipe, value, Outer);
    if (fast !== undefined) {
      // Accepted by the fast path only when the pipe accepts it too, as the same instance.
      expect(full).toEqual({ ok: fast });
      expect(fast).toBeInstanceOf(Outer);
      const inner = (fast as Outer).inner;
      if (inner !== undefined) expect(inner).toBeInstanceOf(Inner);
    }
    // And Signet's pipe answers exactly as before: the fast path's result, or the full pipe's refusal.
    expect(await outcome(pipe, value, Outer)).toEqual(fast !== undefined ? { ok: fast } : await outcome(createValidationPipeWithoutFastPath(), value, Outer));
  });

  it('takes the plain valid bodies itself', () => {
    const check = compiledBodyCheck(Outer)!;
    expect(check({ name: 'a', count: 3, inner: { publish: ['x'] }, note: 'n' })).toBeInstanceOf(Outer);
    expect(check({ name: 'a' })).toEqual(Object.assign(new Outer(), { name: 'a' }));
  });

  it('leaves classes with rules it does not know to the full pipe', () => {
    expect(compiledBodyCheck(WithEmail)).toBeNull();
    expect(compiledBodyCheck(WithTransform)).toBeNull();
    expect(compiledBodyCheck(String)).toBeNull();
    expect(compiledBodyCheck(Object)).toBeNull();
  });
});

/** Signet's pipe with the fast path switched off: its own transform skipped, the parent's kept. */
function createValidationPipeWithoutFastPath(): ValidationPipe {
  const p = createValidationPipe();
  p.transform = (value: unknown, metadata: ArgumentMetadata) => ValidationPipe.prototype.transform.call(p, value, metadata) as Promise<unknown>;
  return p;
}
