/**
 * A PostgreSQL that stops answering, or resets its connections, through a
 * TcpProxy between the all-in-one and the machine's PostgreSQL (issue 18,
 * finding 1): the API answers 503 `database_unavailable` with Retry-After
 * within a few seconds instead of hanging, /readyz says "not ready" within its
 * own deadline, a CONNECT that needs the database is refused with 0x88
 * (server unavailable), and a transaction abandoned during the stall does
 * not commit when the stall ends. Default deadlines throughout
 * (SIGNET_DB_STATEMENT_TIMEOUT_MS, SIGNET_DB_ACQUIRE_TIMEOUT_MS,
 * SIGNET_REQUEST_TIMEOUT_MS).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { SignetProcess } from '@signet/runtime';
import { createTestDatabase, TcpProxy, TestDatabase, waitFor } from '@signet/testing';

import { TokenApi } from '../support/api';
import { brokerUrl, refusalCode } from '../support/mqtt';
import { Backend, reach, startSignet } from '../support/signet';

jest.setTimeout(120_000);

/** Generous bounds: these say "answers, in seconds", they are not benchmarks. */
const ANSWER_WITHIN_MS = 10_000;

interface Answer {
  status: number;
  body: Record<string, unknown>;
  contentType: string;
  retryAfter: string | null;
  ms: number;
}

describe('the API while PostgreSQL is stalled or resetting (all-in-one behind a TcpProxy)', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let dataDir: string;
  let signet: SignetProcess;
  let admin: TokenApi;
  let baseUrl: string;
  let orgId: string;

  /** One request, timed, with the header the TokenApi client does not return. */
  const call = async (method: string, path: string, body?: unknown): Promise<Answer> => {
    const started = Date.now();
    const res = await fetch(baseUrl + path, {
      method,
      headers: {
        authorization: `Bearer ${signet.service!.bootstrap!.apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      contentType: res.headers.get('content-type') ?? '',
      retryAfter: res.headers.get('retry-after'),
      ms: Date.now() - started,
    };
  };

  const expectUnavailable = (answer: Answer): void => {
    expect({ status: answer.status, code: answer.body['code'] }).toEqual({ status: 503, code: 'database_unavailable' });
    expect(answer.contentType).toContain('application/problem+json');
    expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(answer.ms).toBeLessThan(ANSWER_WITHIN_MS);
  };

  const tokensOf = async (userId: string): Promise<unknown[]> => {
    const res = await admin.call('GET', `/v1/tokens?user_id=${userId}`);
    expect(res.status).toBe(200);
    return res.body['tokens'] as unknown[];
  };

  const recovered = async (): Promise<void> => {
    proxy.restore();
    await waitFor(async () => (await fetch(`${baseUrl}/readyz`)).status === 200, { timeoutMs: 30_000, intervalMs: 200 });
  };

  beforeAll(async () => {
    db = await createTestDatabase('signet_stall');
    proxy = TcpProxy.forUrl(db.url);
    await proxy.start();
    dataDir = await mkdtemp(join(tmpdir(), 'signet-stall-'));
    const backend: Backend = {
      name: 'postgres+redis',
      // The in-process bus: only PostgreSQL is under test here.
      env: { DATABASE_URL: proxy.urlFor(db.url), SIGNET_MASTER_KEY: randomBytes(32).toString('base64'), SIGNET_DATA_DIR: dataDir },
      cleanup: async () => undefined,
    };
    signet = await startSignet(backend);
    orgId = signet.service!.bootstrap!.orgId;
    baseUrl = `http://127.0.0.1:${signet.ports.http}`;
    admin = reach(signet).anonymous.withKey(signet.service!.bootstrap!.apiKey);
    // The admin key's verdict is cached from here on: the requests below reach the database in their use case.
    expect((await call('POST', '/v1/tokens', { user_id: 'warm-up' })).status).toBe(201);
  });

  afterAll(async () => {
    proxy?.restore();
    await signet?.close();
    await proxy?.close();
    await db?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('answers 503 database_unavailable, says not ready, refuses a CONNECT with 0x88, and commits nothing it abandoned', async () => {
    const issued = await call('POST', '/v1/tokens', { user_id: 'to-revoke' });
    expect(issued.status).toBe(201);
    const tokenId = issued.body['token_id'] as string;
    // Created but never used: its verdict is in no cache, so a CONNECT with it needs the database.
    const key = await call('POST', '/v1/keys', { name: 'device-fleet', type: 'secret' });
    expect(key.status).toBe(201);

    proxy.stall();
    const readyStarted = Date.now();
    const [issue, revoke, ready, connack] = await Promise.all([
      call('POST', '/v1/tokens', { user_id: 'abandoned' }),
      call('DELETE', `/v1/tokens/${tokenId}`),
      fetch(`${baseUrl}/readyz`).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown>, ms: Date.now() - readyStarted })),
      refusalCode(brokerUrl(reach(signet).endpoints, 'tcp'), {
        username: `device-fleet@${orgId}`,
        password: key.body['key'] as string,
        protocolVersion: 5,
        connectTimeout: 15_000,
      }),
    ]);
    expectUnavailable(issue);
    expectUnavailable(revoke);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'not_ready', checks: { database: { ok: false } } });
    expect(ready.ms).toBeLessThan(5_000);
    expect(connack).toBe(0x88);

    await recovered();
    // The abandoned transaction's connection was closed before COMMIT: nothing of it commits when the stall ends.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await tokensOf('abandoned')).toEqual([]);
    // The revoke is one self-committing statement: sent before the stall's deadline, it may still take effect
    // when the link delivers it (as any write whose answer was lost). The caller told 503 retries, idempotently.
    expect((await call('DELETE', `/v1/tokens/${tokenId}`)).status).toBe(204);
    expect(await tokensOf('to-revoke')).toEqual([expect.objectContaining({ token_id: tokenId, status: 'revoked' })]);
    // And the API works again.
    expect((await call('POST', '/v1/tokens', { user_id: 'after-stall' })).status).toBe(201);
  });

  it('answers 503 database_unavailable, not 500, when PostgreSQL resets its connections', async () => {
    proxy.cut();
    const [issue, list] = await Promise.all([call('POST', '/v1/tokens', { user_id: 'during-reset' }), call('GET', '/v1/tokens')]);
    expectUnavailable(issue);
    expectUnavailable(list);
    expect((await fetch(`${baseUrl}/readyz`)).status).toBe(503);

    await recovered();
    expect(await tokensOf('during-reset')).toEqual([]);
    expect((await call('POST', '/v1/tokens', { user_id: 'after-reset' })).status).toBe(201);
  });
});
