/**
 * The client address behind a reverse proxy (SIGNET_TRUSTED_PROXIES), end to
 * end: the all-in-one on the machine's PostgreSQL, called over real sockets
 * from 127.0.0.1. Both readers of the address, API key IP allowlists and the
 * public rate limit on refresh / IdP exchange, see the same `request.ip`:
 * the TCP peer unless that peer is a trusted proxy, then the nearest
 * X-Forwarded-For address that is not trusted.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Env, loadConfig } from '@signet/config';
import type { SignetProcess } from '@signet/runtime';
import { createTestDatabase, TestDatabase } from '@signet/testing';

import { startAllInOne } from '../../apps/signet/src/signet.composition';
import { TokenApi } from '../support/api';
import { reach, testEnv } from '../support/signet';

// A project-level testTimeout is not applied by jest; an all-in-one start and bcrypt need more than 5 s under load.
jest.setTimeout(60_000);

const ALLOWED = '203.0.113.7';
/** Public rate limit small enough to exhaust: 2 at once, 1 more per second. */
const LIMITS = { SIGNET_PUBLIC_RATE_PER_IP: '1', SIGNET_PUBLIC_BURST_PER_IP: '2' };
/** Enough calls to empty a bucket of 2 even if a slow machine lets several refills in. */
const ATTEMPTS = 12;

type Response = Awaited<ReturnType<TokenApi['call']>>;

interface Running {
  signet: SignetProcess;
  anonymous: TokenApi;
  /** An sk_ key usable only from ALLOWED. */
  allowlisted: TokenApi;
  close(): Promise<void>;
}

/** An all-in-one on a fresh PostgreSQL database (in-process bus), with an API key allowlisted for ALLOWED. */
async function start(extra: Env): Promise<Running> {
  const db: TestDatabase = await createTestDatabase('signet_proxies');
  const dataDir = await mkdtemp(join(tmpdir(), 'signet-proxies-'));
  const cleanup = async () => {
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  };
  let signet: SignetProcess;
  try {
    signet = await startAllInOne(
      loadConfig(
        testEnv({ DATABASE_URL: db.url, SIGNET_MASTER_KEY: randomBytes(32).toString('base64'), SIGNET_DATA_DIR: dataDir, ...LIMITS, ...extra }),
      ),
    );
  } catch (err) {
    await cleanup();
    throw err;
  }
  const { anonymous } = reach(signet);
  const admin = anonymous.withKey(signet.service!.bootstrap!.apiKey);
  const created = await admin.call('POST', '/v1/keys', { name: 'office-backend', type: 'secret', ip_allowlist: [`${ALLOWED}/32`] });
  expect(created.status).toBe(201);
  return {
    signet,
    anonymous,
    allowlisted: anonymous.withKey(String(created.body['key'])),
    close: async () => {
      await signet.close();
      await cleanup();
    },
  };
}

const forwardedFor = (value: string | undefined): { headers?: Record<string, string> } =>
  value === undefined ? {} : { headers: { 'x-forwarded-for': value } };

/** A call that needs the API key (and so passes its allowlist). */
const listKeys = (api: TokenApi, xff?: string): Promise<Response> => api.call('GET', '/v1/keys', undefined, forwardedFor(xff));

/** A device's refresh with an unknown refresh token: 401 invalid_refresh_token, or 429 once its address' bucket is empty. */
const refresh = (api: TokenApi, xff?: string): Promise<Response> =>
  api.call('POST', '/v1/tokens/refresh', { refresh_token: `rt_${randomBytes(32).toString('base64url')}` }, forwardedFor(xff));

/** A device's IdP exchange for an unknown provider: 401 unknown_provider, or 429 (the same bucket as refresh). */
const exchange = (api: TokenApi, xff?: string): Promise<Response> =>
  api.call('POST', '/v1/federation/exchange', { provider_id: 'idp_000000000000000000000000' }, { headers: { authorization: 'Bearer not-a-jwt', ...forwardedFor(xff).headers } });

const codeOf = (res: Response): string => `${res.status} ${String(res.body['code'])}`;

/** Calls until one is rate limited; how many calls it took (Infinity: never within ATTEMPTS). */
async function callsUntilLimited(call: (attempt: number) => Promise<Response>): Promise<number> {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const res = await call(attempt);
    if (res.status === 429) {
      expect(res.body['code']).toBe('rate_limited');
      return attempt;
    }
    expect(['401 invalid_refresh_token', '401 unknown_provider']).toContain(codeOf(res));
  }
  return Infinity;
}

/** A different documentation address (198.51.100.0/24) per attempt. */
const spoofed = (attempt: number): string => `198.51.100.${attempt}`;

describe('client address without SIGNET_TRUSTED_PROXIES (the default)', () => {
  let running: Running;
  beforeAll(async () => {
    running = await start({});
  });
  afterAll(() => running?.close());

  it('refuses a key allowlisted for 203.0.113.7 from 127.0.0.1, even with X-Forwarded-For: 203.0.113.7', async () => {
    expect(codeOf(await listKeys(running.allowlisted))).toBe('403 ip_not_allowed');
    expect(codeOf(await listKeys(running.allowlisted, ALLOWED))).toBe('403 ip_not_allowed');
    expect(codeOf(await listKeys(running.allowlisted, `198.51.100.1, ${ALLOWED}`))).toBe('403 ip_not_allowed');
  });

  it('rate-limits 127.0.0.1 as one address, whatever X-Forwarded-For each call claims', async () => {
    const taken = await callsUntilLimited((attempt) => (attempt % 2 === 0 ? exchange : refresh)(running.anonymous, spoofed(attempt)));
    expect(taken).toBeLessThan(ATTEMPTS);
    // A call without the header is the same address, so the same empty bucket.
    expect(codeOf(await refresh(running.anonymous))).toBe('429 rate_limited');
  });
});

describe('client address with SIGNET_TRUSTED_PROXIES=127.0.0.1/32', () => {
  let running: Running;
  beforeAll(async () => {
    running = await start({ SIGNET_TRUSTED_PROXIES: '127.0.0.1/32' });
  });
  afterAll(() => running?.close());

  it('accepts the allowlisted key when the trusted proxy forwards 203.0.113.7, and only then', async () => {
    expect((await listKeys(running.allowlisted, ALLOWED)).status).toBe(200);
    // The proxy itself, or another forwarded client, is not 203.0.113.7.
    expect(codeOf(await listKeys(running.allowlisted))).toBe('403 ip_not_allowed');
    expect(codeOf(await listKeys(running.allowlisted, '203.0.113.8'))).toBe('403 ip_not_allowed');
  });

  it('uses the address the proxy appended, not one the client put before it', async () => {
    // The client sent "X-Forwarded-For: 198.51.100.1"; the proxy appended the client's real address.
    expect((await listKeys(running.allowlisted, `198.51.100.1, ${ALLOWED}`)).status).toBe(200);
    // A client that writes the allowlisted address itself gains nothing: the proxy appends where it really is.
    expect(codeOf(await listKeys(running.allowlisted, `${ALLOWED}, 198.51.100.1`))).toBe('403 ip_not_allowed');
    expect(codeOf(await listKeys(running.allowlisted, `${ALLOWED}, 198.51.100.1, 127.0.0.1`))).toBe('403 ip_not_allowed');
  });

  it('gives two forwarded addresses separate rate-limit buckets', async () => {
    expect(await callsUntilLimited((attempt) => (attempt % 2 === 0 ? exchange : refresh)(running.anonymous, '192.0.2.1'))).toBeLessThan(ATTEMPTS);
    expect(codeOf(await exchange(running.anonymous, '192.0.2.1'))).toBe('429 rate_limited');
    // Another client behind the same proxy, and the proxy's own address, are served.
    expect(codeOf(await refresh(running.anonymous, '192.0.2.2'))).toBe('401 invalid_refresh_token');
    expect(codeOf(await exchange(running.anonymous, '192.0.2.2'))).toBe('401 unknown_provider');
    expect(codeOf(await refresh(running.anonymous))).toBe('401 invalid_refresh_token');
  });

  it('counts a chain by the address the proxy appended: a client cannot get fresh buckets by varying what it sends', async () => {
    const taken = await callsUntilLimited((attempt) => refresh(running.anonymous, `${spoofed(attempt)}, 192.0.2.3`));
    expect(taken).toBeLessThan(ATTEMPTS);
    expect(codeOf(await refresh(running.anonymous, '192.0.2.3'))).toBe('429 rate_limited');
  });
});
