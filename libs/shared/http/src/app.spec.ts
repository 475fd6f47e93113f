import { request } from 'node:http';
import type { AddressInfo } from 'node:net';

import { Body, Controller, Get, Module, Param, Patch, Post } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsObject, IsOptional, IsString, Min, ValidateNested } from 'class-validator';

import { createLogger, SignetMetrics } from '@signet/observability';
import { currentDeadline } from '@signet/persistence';

import { createHttpApp } from './app';
import { HealthRegistry } from './health';
import { conflict } from './problem';
import { MergePatch } from './validation';

class TagsDto {
  @IsOptional() @IsString() colour?: string;
}

class EchoDto {
  @IsString() name!: string;
  @IsInt() @Min(1) count!: number;
  @IsOptional() @IsString() label?: string;
  @IsOptional() @IsObject() @ValidateNested() @Type(() => TagsDto) tags?: TagsDto;
  // Declared nullable: null is a value here (e.g. "remove" in an update).
  @ApiPropertyOptional({ type: String, nullable: true }) @IsOptional() @IsString() note?: string | null;
}

/** An update: a merge patch, where null removes a field (RFC 7396). */
@MergePatch()
class EchoUpdateDto {
  @IsOptional() @IsString() label?: string | null;
}

/** Errors shaped as node-postgres and TypeORM raise them. */
const pgError = (message: string, code?: string): Error => Object.assign(new Error(message), code ? { code } : {});
const typeormError = (code: string): Error => Object.assign(new Error('query failed'), { driverError: pgError('x', code) });

@Controller('echo')
class EchoController {
  @Post()
  echo(@Body() body: EchoDto): EchoDto {
    if (body.name === 'taken') throw conflict('name_taken', 'that name is taken');
    if (body.name === 'boom') throw new Error('secret internal detail');
    if (body.name === 'pg-reset') throw pgError('read ECONNRESET', 'ECONNRESET');
    if (body.name === 'pg-terminated') throw pgError('Connection terminated unexpectedly');
    if (body.name === 'pg-acquire') throw pgError('timeout exceeded when trying to connect');
    if (body.name === 'pg-statement-timeout') throw typeormError('57014');
    if (body.name === 'pg-unique') throw typeormError('23505');
    return body;
  }

  @Patch()
  update(@Body() body: EchoUpdateDto): EchoUpdateDto {
    return body;
  }

  @Get(':id')
  get(@Param('id') id: string): { id: string } {
    return { id };
  }
}

@Module({ controllers: [EchoController] })
class EchoModule {}

const silentApp = (imports: (typeof EchoModule)[], extra: { requestTimeoutMs?: number } = {}): Promise<NestFastifyApplication> =>
  createHttpApp({
    title: 'test',
    logger: createLogger({ name: 'test', level: 'silent' }),
    metrics: new SignetMetrics({ defaults: false }),
    providers: [],
    imports,
    ...extra,
  });

describe('createHttpApp', () => {
  let app: NestFastifyApplication;
  const inject = (opts: { method: 'GET' | 'POST' | 'PATCH'; url: string; payload?: string | Buffer; headers?: Record<string, string> }) =>
    app.getHttpAdapter().getInstance().inject(opts);
  const json = { 'content-type': 'application/json' };

  beforeAll(async () => {
    app = await silentApp([EchoModule]);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(() => app.close());

  it('serves a valid request', async () => {
    const res = await inject({ method: 'POST', url: '/echo', headers: json, payload: '{"name":"a","count":2}' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ name: 'a', count: 2 });
  });

  it.each([
    ['malformed JSON', '{"name":', 400, 'malformed_json'],
    ['a missing field', '{"name":"a"}', 400, 'validation_failed'],
    ['an unknown field', '{"name":"a","count":1,"admin":true}', 400, 'validation_failed'],
    ['a domain error', '{"name":"taken","count":1}', 409, 'name_taken'],
  ])('answers %s with problem+json', async (_label, payload, status, code) => {
    const res = await inject({ method: 'POST', url: '/echo', headers: json, payload });
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ status, code });
  });

  it('hides internal errors', async () => {
    const res = await inject({ method: 'POST', url: '/echo', headers: json, payload: '{"name":"boom","count":1}' });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('secret internal detail');
    expect(res.json()).toMatchObject({ code: 'internal_error' });
  });

  it('answers unknown routes and wrong media types with problems', async () => {
    const notFound = await inject({ method: 'GET', url: '/nope' });
    expect(notFound.statusCode).toBe(404);
    expect(notFound.json()).toMatchObject({ code: 'not_found' });
    const media = await inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'text/xml' }, payload: '<a/>' });
    expect(media.statusCode).toBe(415);
    expect(media.json()).toMatchObject({ code: 'unsupported_media_type' });
    const big = await inject({ method: 'POST', url: '/echo', headers: json, payload: JSON.stringify({ name: 'x'.repeat(70000), count: 1 }) });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ code: 'payload_too_large' });
  });

  it('serves health, metrics and the OpenAPI document', async () => {
    expect((await inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    expect((await inject({ method: 'GET', url: '/metrics' })).body).toContain('signet_http_requests_total');
    const doc = (await inject({ method: 'GET', url: '/docs/openapi.json' })).json();
    expect(Object.keys(doc.paths)).toContain('/echo');
  });

  it('answers errors raised before a route runs with problems: a bad URL, a long parameter', async () => {
    const badUrl = await inject({ method: 'GET', url: '/echo/%E0%A4%A' });
    expect(badUrl.statusCode).toBe(400);
    expect(badUrl.headers['content-type']).toContain('application/problem+json');
    expect(badUrl.json()).toMatchObject({ status: 400, code: 'invalid_url' });
    const long = await inject({ method: 'GET', url: `/echo/${'a'.repeat(500)}` });
    expect(long.statusCode).toBe(414);
    expect(long.headers['content-type']).toContain('application/problem+json');
    expect(long.json()).toMatchObject({ status: 414, code: 'uri_too_long', title: 'URI Too Long' });
  });

  it.each([
    ['utf-16', 'application/json; charset=utf-16'],
    ['a bogus charset', 'application/json; charset=bogus'],
    ['latin1', 'application/json;charset="iso-8859-1"'],
  ])('refuses a JSON body declared in %s with 415', async (_label, contentType) => {
    const res = await inject({ method: 'POST', url: '/echo', headers: { 'content-type': contentType }, payload: '{"name":"a","count":1}' });
    expect(res.statusCode).toBe(415);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ status: 415, code: 'unsupported_media_type' });
  });

  it('accepts UTF-8 however it is spelled, and refuses bytes that are not UTF-8', async () => {
    for (const contentType of ['application/json; charset=utf-8', 'application/json; charset=UTF8', 'application/json; charset="UTF-8"']) {
      const res = await inject({ method: 'POST', url: '/echo', headers: { 'content-type': contentType }, payload: '{"name":"é","count":1}' });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toEqual({ name: 'é', count: 1 });
    }
    const invalid = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc3, 0x28]), Buffer.from('","count":1}')]);
    const res = await inject({ method: 'POST', url: '/echo', headers: json, payload: invalid });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'malformed_json' });
  });

  it.each(['{"name":"a","count":1,"__proto__":{"x":1}}', '{"name":"a","count":1,"tags":{"constructor":{"prototype":{"x":1}}}}'])(
    'refuses a body with prototype keys (%s), which DTOs would silently drop',
    async (payload) => {
      const res = await inject({ method: 'POST', url: '/echo', headers: json, payload });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'malformed_json' });
    },
  );

  it.each([
    ['an optional field', '{"name":"a","count":1,"label":null}', 'label'],
    ['a nested optional field', '{"name":"a","count":1,"tags":{"colour":null}}', 'tags.colour'],
    ['an optional object', '{"name":"a","count":1,"tags":null}', 'tags'],
    ['a required field', '{"name":null,"count":1}', 'name'],
  ])('refuses null for %s with validation_failed', async (_label, payload, field) => {
    const res = await inject({ method: 'POST', url: '/echo', headers: json, payload });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'validation_failed' });
    expect((res.json() as { errors: { field: string }[] }).errors.map((e) => e.field)).toContain(field);
  });

  it('accepts null where the DTO declares it nullable', async () => {
    const res = await inject({ method: 'POST', url: '/echo', headers: json, payload: '{"name":"a","count":1,"note":null,"tags":{}}' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ name: 'a', count: 1, note: null, tags: {} });
  });

  it('leaves null to the update DTO in a PATCH (a merge patch: null removes)', async () => {
    const res = await inject({ method: 'PATCH', url: '/echo', headers: json, payload: '{"label":null}' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ label: null });
  });

  it.each(['pg-reset', 'pg-terminated', 'pg-acquire', 'pg-statement-timeout'])(
    'answers a database that is unreachable or too slow (%s) with 503 database_unavailable and Retry-After',
    async (name) => {
      const res = await inject({ method: 'POST', url: '/echo', headers: json, payload: JSON.stringify({ name, count: 1 }) });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(res.json()).toMatchObject({ status: 503, code: 'database_unavailable' });
    },
  );

  it('keeps a database error that is about the statement an internal error', async () => {
    const res = await inject({ method: 'POST', url: '/echo', headers: json, payload: '{"name":"pg-unique","count":1}' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ code: 'internal_error' });
  });

  it('answers a header block over the limit with 431 problem+json (a real socket: the HTTP parser refuses it)', async () => {
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    const res = await new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/healthz', headers: { 'x-padding': 'p'.repeat(17 * 1024) } }, (r) => {
        let body = '';
        r.on('data', (chunk: Buffer) => (body += chunk.toString()));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, type: String(r.headers['content-type']), body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(res.status).toBe(431);
    expect(res.type).toContain('application/problem+json');
    expect(JSON.parse(res.body)).toMatchObject({ status: 431, code: 'headers_too_large', title: 'Request Header Fields Too Large' });
  });
});

@Controller('slow')
class SlowController {
  @Post()
  async slow(@Body() body: { ms?: number }): Promise<{ deadline: boolean }> {
    await new Promise((resolve) => setTimeout(resolve, body.ms ?? 0));
    // Read after the body was parsed: the deadline must survive into the handler's async context.
    return { deadline: currentDeadline() !== undefined };
  }
}

@Module({ controllers: [SlowController] })
class SlowModule {}

describe('createHttpApp deadlines', () => {
  let app: NestFastifyApplication;
  const post = (ms: number) =>
    app.getHttpAdapter().getInstance().inject({ method: 'POST', url: '/slow', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ ms }) });

  beforeAll(async () => {
    app = await silentApp([SlowModule], { requestTimeoutMs: 300 });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(() => app.close());

  it('gives the handler the request deadline', async () => {
    const res = await post(0);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ deadline: true });
  });

  it('answers a request still running at its deadline with 503 request_timeout and Retry-After', async () => {
    const started = Date.now();
    const res = await post(1500);
    expect(Date.now() - started).toBeLessThan(1200);
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(res.json()).toMatchObject({ status: 503, code: 'request_timeout' });
  });

  it('answers /readyz within its own deadline when a check hangs, saying not ready', async () => {
    const registry = app.get(HealthRegistry);
    registry.timeoutMs = 100;
    registry.register('stuck', () => new Promise(() => undefined));
    const started = Date.now();
    const res = await app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/readyz' });
    expect(Date.now() - started).toBeLessThan(250);
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: 'not_ready', ready: false, checks: { stuck: { ok: false } } });
  });
});
