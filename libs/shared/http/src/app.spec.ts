import { Body, Controller, Module, Post } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { IsInt, IsString, Min } from 'class-validator';

import { createLogger, SignetMetrics } from '@signet/observability';

import { createHttpApp } from './app';
import { conflict } from './problem';

class EchoDto {
  @IsString() name!: string;
  @IsInt() @Min(1) count!: number;
}

@Controller('echo')
class EchoController {
  @Post()
  echo(@Body() body: EchoDto): EchoDto {
    if (body.name === 'taken') throw conflict('name_taken', 'that name is taken');
    if (body.name === 'boom') throw new Error('secret internal detail');
    return body;
  }
}

@Module({ controllers: [EchoController] })
class EchoModule {}

describe('createHttpApp', () => {
  let app: NestFastifyApplication;
  const inject = (opts: { method: 'GET' | 'POST'; url: string; payload?: string; headers?: Record<string, string> }) =>
    app.getHttpAdapter().getInstance().inject(opts);
  const json = { 'content-type': 'application/json' };

  beforeAll(async () => {
    app = await createHttpApp({
      title: 'test',
      logger: createLogger({ name: 'test', level: 'silent' }),
      metrics: new SignetMetrics({ defaults: false }),
      providers: [],
      imports: [EchoModule],
    });
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
});
