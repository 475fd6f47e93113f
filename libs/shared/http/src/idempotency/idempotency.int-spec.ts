import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Body, CanActivate, Controller, ExecutionContext, HttpCode, Injectable, Module, Post, UseGuards } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';

import { loadConfig } from '@signet/config';
import { createLogger, SignetMetrics } from '@signet/observability';
import { DATA_SOURCE, OpenedDatabase, openDatabase, SECRET_BOX, SecretBox } from '@signet/persistence';
import { createTestDatabase, TestDatabase } from '@signet/testing';

import { createHttpApp } from '../app';
import { badRequest } from '../problem';
import { Idempotent } from './idempotency.interceptor';

jest.setTimeout(60_000);

/*
 * The interceptor as the controllers use it (@Idempotent on a POST behind a guard that sets request.apiKey)
 * over a real PostgreSQL database: the handler writes a row per run, so duplicates are counted in the database.
 */
let runs: { resolve?: () => void } = {};

@Injectable()
class HeaderKeyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ headers: Record<string, string>; apiKey?: unknown }>();
    req.apiKey = { orgId: 'org_test', keyId: req.headers['x-test-key'] ?? 'key_a' };
    return true;
  }
}

let database: OpenedDatabase;

@Controller('widgets')
class WidgetsController {
  @Post()
  @HttpCode(201)
  @UseGuards(HeaderKeyGuard)
  @Idempotent()
  async create(@Body() body: { name?: string; fail?: boolean; slow?: boolean }): Promise<{ id: string; name: string | undefined }> {
    if (body.fail) throw badRequest('widget_refused', 'refused (test)');
    if (body.slow) await new Promise<void>((resolve) => (runs.resolve = resolve));
    const id = `w_${randomBytes(6).toString('hex')}`;
    await database.dataSource.query(`INSERT INTO widgets (id, name) VALUES ($1, $2)`, [id, body.name ?? null]);
    return { id, name: body.name };
  }
}

@Module({ controllers: [WidgetsController], providers: [HeaderKeyGuard] })
class WidgetsModule {}

describe('Idempotency-Key (PostgreSQL)', () => {
  let pg: TestDatabase;
  let dataDir: string;
  let app: NestFastifyApplication;
  let fastify: FastifyInstance;

  beforeAll(async () => {
    pg = await createTestDatabase('signet_idem');
    dataDir = await mkdtemp(join(tmpdir(), 'signet-idem-'));
    const masterKey = randomBytes(32);
    const config = loadConfig({ SIGNET_DATA_DIR: dataDir, SIGNET_MASTER_KEY: masterKey.toString('base64'), DATABASE_URL: pg.url });
    const logger = createLogger({ name: 'test', level: 'silent' });
    database = await openDatabase(config, logger);
    await database.dataSource.query(`CREATE TABLE widgets (id text PRIMARY KEY, name text)`);
    app = await createHttpApp({
      title: 'test',
      logger,
      metrics: new SignetMetrics({ defaults: false }),
      providers: [
        { provide: DATA_SOURCE, useValue: database.dataSource },
        { provide: SECRET_BOX, useValue: new SecretBox(masterKey) },
      ],
      imports: [WidgetsModule],
    });
    await app.init();
    fastify = app.getHttpAdapter().getInstance();
    await fastify.ready();
  });

  afterAll(async () => {
    await app?.close();
    await database?.close();
    await pg?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fastify.inject({ method: 'POST', url: '/widgets', headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(body) });
  const widgets = async (): Promise<number> => Number(((await database.dataSource.query(`SELECT count(*) AS n FROM widgets`)) as { n: string }[])[0].n);

  it('same key and body: the first response again (status and body), marked as a replay, one row written', async () => {
    const before = await widgets();
    const first = await post({ name: 'a', tags: [1, 2] }, { 'idempotency-key': 'k-replay' });
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    // Members in another order are the same body.
    const again = await post({ tags: [1, 2], name: 'a' }, { 'idempotency-key': 'k-replay' });
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(await widgets()).toBe(before + 1);
  });

  it('stores the response sealed, not in the clear', async () => {
    await post({ name: 'secret-ish' }, { 'idempotency-key': 'k-sealed' });
    const rows = (await database.dataSource.query(`SELECT body FROM idempotency_keys WHERE key = 'k-sealed'`)) as { body: string }[];
    expect(rows[0].body).not.toContain('secret-ish');
  });

  it('same key, another body: 422 idempotency_key_reused, nothing written', async () => {
    await post({ name: 'b' }, { 'idempotency-key': 'k-reused' });
    const before = await widgets();
    const res = await post({ name: 'c' }, { 'idempotency-key': 'k-reused' });
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ code: 'idempotency_key_reused', status: 422 });
    expect(await widgets()).toBe(before);
  });

  it('keys are per API key: the same key from another API key is another request', async () => {
    const a = await post({ name: 'd' }, { 'idempotency-key': 'k-scoped', 'x-test-key': 'key_a' });
    const b = await post({ name: 'd' }, { 'idempotency-key': 'k-scoped', 'x-test-key': 'key_b' });
    expect(b.statusCode).toBe(201);
    expect(b.headers['idempotent-replayed']).toBeUndefined();
    expect(b.json<{ id: string }>().id).not.toBe(a.json<{ id: string }>().id);
  });

  it('concurrent requests with one key: one runs, the other gets 409 idempotency_key_in_progress', async () => {
    const before = await widgets();
    runs = {};
    const first = post({ name: 'e', slow: true }, { 'idempotency-key': 'k-race' });
    while (!runs.resolve) await new Promise((r) => setTimeout(r, 10));
    const second = await post({ name: 'e', slow: true }, { 'idempotency-key': 'k-race' });
    expect(second.statusCode).toBe(409);
    expect(second.json()).toMatchObject({ code: 'idempotency_key_in_progress' });
    runs.resolve();
    expect((await first).statusCode).toBe(201);
    expect(await widgets()).toBe(before + 1);
    expect((await post({ name: 'e', slow: true }, { 'idempotency-key': 'k-race' })).headers['idempotent-replayed']).toBe('true');
  });

  it('a failed request is not stored: the retry runs again', async () => {
    const failed = await post({ fail: true }, { 'idempotency-key': 'k-fail' });
    expect(failed.statusCode).toBe(400);
    expect(await post({ fail: true }, { 'idempotency-key': 'k-fail' })).toMatchObject({ statusCode: 400 });
    const rows = (await database.dataSource.query(`SELECT 1 FROM idempotency_keys WHERE key = 'k-fail'`)) as unknown[];
    expect(rows).toHaveLength(0);
  });

  it('an expired key (24 h) is a new request; a malformed key is 400', async () => {
    await post({ name: 'f' }, { 'idempotency-key': 'k-expired' });
    const expiry = (await database.dataSource.query(`SELECT expires_at - created_at AS ttl FROM idempotency_keys WHERE key = 'k-expired'`)) as {
      ttl: { hours?: number; days?: number };
    }[];
    expect((expiry[0].ttl.days ?? 0) * 24 + (expiry[0].ttl.hours ?? 0)).toBeGreaterThanOrEqual(24);
    await database.dataSource.query(`UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = 'k-expired'`);
    const again = await post({ name: 'f' }, { 'idempotency-key': 'k-expired' });
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBeUndefined();
    expect((await post({ name: 'g' }, { 'idempotency-key': 'x'.repeat(256) })).json()).toMatchObject({ code: 'invalid_idempotency_key' });
  });

  it('without the header nothing changes: two requests, two rows', async () => {
    const before = await widgets();
    await post({ name: 'h' });
    await post({ name: 'h' });
    expect(await widgets()).toBe(before + 2);
  });
});
