import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { OutgoingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { JWK } from 'jose';

import { ApiKeysModule, ApiKeysService, BootstrapService } from '@signet/api-keys';
import { loadConfig, SignetConfig } from '@signet/config';
import { AccessTokenClaims, AccessTokenVerifier, importPublicJwk } from '@signet/credentials';
import { createHttpApp } from '@signet/http';
import { createLogger, SignetMetrics } from '@signet/observability';
import {
  inTransaction,
  IssuedTokenEntity,
  OpenedDatabase,
  openDatabase,
  OrgEntity,
  OrgSettingsEntity,
  RefreshTokenEntity,
  RevocationStore,
  SecretBox,
} from '@signet/persistence';
import {
  InMemoryRevocationBus,
  RevocationBus,
  RevocationBusHealth,
  RevocationEvent,
  RevocationHandler,
} from '@signet/revocation';

import { platformProviders } from '@signet/runtime';
import { createTestDatabase, tamper, TestDatabase, waitFor } from '@signet/testing';
import type { TokenCredentialsDto as Credentials } from './http/dto';
import { tokensOptionsFrom } from './options';
import { TokenRetentionJob } from './retention/token-retention.job';
import { TokenRetentionModule } from './retention/token-retention.module';
import { TypeOrmTokenRetentionRepository } from './retention/token-retention.repository';
import { SigningKeysService } from './signing-keys/signing-keys.service';
import { TokensModule } from './tokens.module';

// A project-level testTimeout is not applied by jest; embedded starts (initdb) and bcrypt need more than 5 s under load.
jest.setTimeout(60_000);

/*
 * The harness: the token API as the apps build it (createHttpApp:
 * problem+json, validation pipe, swagger) over a fresh PostgreSQL database,
 * with a bus that records what was published and can be told to fail.
 */
class RecordingBus implements RevocationBus {
  readonly published: RevocationEvent[] = [];
  failPublish = false;
  private readonly inner = new InMemoryRevocationBus();

  start(): Promise<void> {
    return this.inner.start();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  async publish(event: RevocationEvent): Promise<void> {
    if (this.failPublish) throw new Error('bus unreachable (test)');
    this.published.push(event);
    await this.inner.publish(event);
  }
  subscribe(handler: RevocationHandler): () => void {
    return this.inner.subscribe(handler);
  }
  health(): RevocationBusHealth {
    return this.inner.health();
  }
}

interface Harness {
  app: NestFastifyApplication;
  config: SignetConfig;
  db: OpenedDatabase;
  bus: RecordingBus;
  /** Every log line written, raw JSON. */
  logLines: string[];
  request(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    options?: { key?: string; body?: unknown; rawBody?: string },
  ): Promise<{ status: number; body: string; headers: OutgoingHttpHeaders; json<T>(): T }>;
  /** A new org with one key; `maxTokenTtlSeconds` sets the org's cap. */
  createOrg(options?: { maxTokenTtlSeconds?: number; type?: 'secret' | 'restricted'; scopes?: string[] }): Promise<{ orgId: string; key: string }>;
  bootstrap(): Promise<{ orgId: string; apiKey: string } | null>;
  close(): Promise<void>;
}

/** `shared`: reuse a database across harnesses; `'embedded'`: PGlite in a temporary data directory. */
async function startHarness(
  env: Record<string, string> = {},
  shared?: { pg: TestDatabase; masterKey: string } | 'embedded',
): Promise<Harness> {
  const embedded = shared === 'embedded';
  const reused = typeof shared === 'object' ? shared : undefined;
  const pg = embedded ? undefined : (reused?.pg ?? (await createTestDatabase()));
  const ownsPg = pg !== undefined && reused === undefined;
  const masterKey = reused?.masterKey ?? randomBytes(32).toString('base64');
  const dataDir = await mkdtemp(join(tmpdir(), 'signet-tokens-'));
  const config = loadConfig({
    SIGNET_DATA_DIR: dataDir,
    SIGNET_MASTER_KEY: masterKey,
    ...(pg ? { DATABASE_URL: pg.url } : {}),
    // The retention job runs when a test says so (TokenRetentionJob.prune), not on a timer.
    SIGNET_PRUNE_INTERVAL_MS: '0',
    ...env,
  });
  const logLines: string[] = [];
  // SIGNET_TEST_LOG=1 also prints every line.
  const echo = process.env['SIGNET_TEST_LOG'] === '1';
  const destination = {
    write: (line: string) => {
      logLines.push(line);
      if (echo) process.stderr.write(line);
    },
  };
  const logger = createLogger({ name: 'test', level: 'debug', destination });
  const db = await openDatabase(config, logger);
  const bus = new RecordingBus();
  await bus.start();
  let app: NestFastifyApplication | undefined;
  try {
    app = await createHttpApp({
      title: 'test',
      logger,
      metrics: new SignetMetrics({ defaults: false }),
      providers: [
        ...platformProviders({ config, dataSource: db.dataSource, bus, secretBox: new SecretBox(Buffer.from(masterKey, 'base64')) }),
      ],
      imports: [ApiKeysModule, TokensModule.forRoot(tokensOptionsFrom(config)), TokenRetentionModule],
    });
    await app.init();
  } catch (err) {
    await app?.close().catch(() => undefined);
    await bus.close();
    await db.close();
    if (ownsPg) await pg?.drop();
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const started = app;
  const fastify = started.getHttpAdapter().getInstance();
  await fastify.ready();

  return {
    app: started,
    config,
    db,
    bus,
    logLines,
    async request(method, url, options = {}) {
      const headers: Record<string, string> = {};
      if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
      let payload: string | undefined;
      if (options.rawBody !== undefined) payload = options.rawBody;
      else if (options.body !== undefined) payload = JSON.stringify(options.body);
      if (payload !== undefined) headers['content-type'] = 'application/json';
      const res = await fastify.inject({ method, url, headers, payload });
      return {
        status: res.statusCode,
        body: res.body,
        headers: res.headers,
        json: <T>() => JSON.parse(res.body) as T,
      };
    },
    async createOrg(options = {}) {
      const orgId = `org_${randomBytes(6).toString('hex')}`;
      await db.dataSource.getRepository(OrgEntity).insert({
        id: orgId,
        name: orgId,
        maxTokenTtlSeconds: options.maxTokenTtlSeconds ?? null,
      });
      const created = await started
        .get(ApiKeysService)
        .createKey({ orgId, name: 'test', type: options.type ?? 'secret', scopes: options.scopes });
      return { orgId, key: created.apiKey };
    },
    bootstrap: () => started.get(BootstrapService).ensureBootstrap(),
    async close() {
      await started.close();
      await bus.close();
      await db.close();
      if (ownsPg) await pg?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

interface Problem {
  status: number;
  code: string;
  detail: string;
}
interface Introspection {
  active: boolean;
  sub?: string;
  org_id?: string;
  client_id?: string | null;
  exp?: number;
  iat?: number;
  jti?: string;
  token_type?: string;
  username?: string;
  permissions?: { publish: string[]; subscribe: string[] };
}
interface TokenList {
  tokens: Array<{ token_id: string; user_id: string; status: string; revoked_at: string | null; permissions: object }>;
  next_cursor: string | null;
}

/*
 * Retention: rows are made old by moving their timestamps back, then the job
 * runs once (TokenRetentionJob.prune) against the real clock.
 */
const DAY_MS = 86_400_000;
const daysAgo = (days: number): Date => new Date(Date.now() - days * DAY_MS);

/** Moves an access token's expiry `days` back (issued an hour before). */
async function expireToken(db: OpenedDatabase, tokenId: string, days: number): Promise<void> {
  await db.dataSource.query(`UPDATE issued_tokens SET issued_at = $2::timestamptz - interval '1 hour', expires_at = $2 WHERE id = $1`, [
    tokenId,
    daysAgo(days),
  ]);
}

/** Moves the given timestamps of the refresh token issued with `tokenId` `days` back. */
async function ageRefreshToken(db: OpenedDatabase, tokenId: string, days: { expired?: number; revoked?: number; used?: number }): Promise<void> {
  const at = (d: number | undefined) => (d === undefined ? null : daysAgo(d));
  await db.dataSource.query(
    `UPDATE refresh_tokens SET expires_at = COALESCE($2, expires_at), revoked_at = COALESCE($3, revoked_at), used_at = COALESCE($4, used_at)
      WHERE token_id = $1`,
    [tokenId, at(days.expired), at(days.revoked), at(days.used)],
  );
}

async function rowsOf(db: OpenedDatabase, tokenId: string): Promise<{ token: boolean; refreshToken: boolean }> {
  const [tokens, refresh]: Array<unknown[]> = await Promise.all([
    db.dataSource.query('SELECT 1 FROM issued_tokens WHERE id = $1', [tokenId]),
    db.dataSource.query('SELECT 1 FROM refresh_tokens WHERE token_id = $1', [tokenId]),
  ]);
  return { token: tokens.length > 0, refreshToken: refresh.length > 0 };
}

const SECRET_PATTERN = /(tkn_[A-Za-z0-9_-]{10,}|rt_[A-Za-z0-9_-]{43}|[sr]k_[0-9a-z]{12}_[0-9A-Za-z]{38})/;

describe('token service API', () => {
  let h: Harness;
  let orgA: { orgId: string; key: string };
  let orgB: { orgId: string; key: string };

  beforeAll(async () => {
    // The burst tests refresh from one address more often than the default per-address bucket allows.
    h = await startHarness({ SIGNET_TOKEN_MAX_TTL: '7200', SIGNET_PUBLIC_BURST_PER_IP: '1000' });
    const boot = await h.bootstrap();
    if (!boot) throw new Error('expected a bootstrap key on an empty database');
    orgA = { orgId: boot.orgId, key: boot.apiKey };
    orgB = await h.createOrg();
  });
  afterAll(() => h?.close());

  const issue = async (key: string, body: object) => {
    const res = await h.request('POST', '/v1/tokens', { key, body });
    if (res.status !== 201) throw new Error(`issue failed: ${res.status} ${res.body}`);
    return res.json<Credentials>();
  };
  const introspect = async (key: string, token: string) => {
    const res = await h.request('POST', '/v1/tokens/introspect', { key, body: { token } });
    expect(res.status).toBe(200);
    return res.json<Introspection>();
  };
  const refresh = (refreshToken: string) => h.request('POST', '/v1/tokens/refresh', { body: { refresh_token: refreshToken } });
  const verifyWithJwks = async (token: string): Promise<AccessTokenClaims> => {
    const { keys } = (await h.request('GET', '/.well-known/jwks.json')).json<{ keys: JWK[] }>();
    const verifier = new AccessTokenVerifier(async (kid) => {
      const jwk = keys.find((k) => k.kid === kid);
      return jwk ? importPublicJwk(jwk) : undefined;
    });
    return verifier.verify(token);
  };
  const problem = (res: { status: number; json<T>(): T }, status: number, code: string) => {
    expect({ status: res.status, code: res.json<Problem>().code }).toEqual({ status, code });
  };

  describe('bootstrap', () => {
    it('returns the key only on the first start', async () => {
      expect(orgA.key).toMatch(/^sk_/);
      expect(await h.bootstrap()).toBeNull();
    });
  });

  describe('POST /v1/tokens', () => {
    it('issues credentials with the defaults', async () => {
      const before = Date.now();
      const res = await h.request('POST', '/v1/tokens', { key: orgA.key, body: { user_id: 'user_xyz' } });
      expect(res.status).toBe(201);
      const c = res.json<Credentials>();
      expect(c.token_id).toMatch(/^tok_[0-9a-f]{24}$/);
      expect(c.mqtt_credentials.username).toBe(`user_xyz@${orgA.orgId}`);
      expect(c.mqtt_credentials.password).toMatch(/^tkn_/);
      expect(c.refresh_token).toMatch(/^rt_/);
      // exp is whole seconds (iat floored), so compare against the second of `before`.
      const ttl = Date.parse(c.expires_at) / 1000 - Math.floor(before / 1000);
      expect(ttl).toBeGreaterThanOrEqual(3600);
      expect(ttl).toBeLessThanOrEqual(3602);
      expect(Date.parse(c.refresh_expires_at) - before).toBeGreaterThan(29 * 86400 * 1000);

      const claims = await verifyWithJwks(c.mqtt_credentials.password);
      expect(claims).toMatchObject({
        sub: 'user_xyz',
        org: orgA.orgId,
        jti: c.token_id,
        perm: { pub: ['users/{user_id}/#'], sub: ['users/{user_id}/#'] },
      });
      expect(claims.exp - claims.iat).toBe(3600);
      expect(claims.cid).toBeUndefined();
      // Only the metadata is stored: never the token, never the refresh token in clear.
      const row = await h.db.dataSource.getRepository(IssuedTokenEntity).findOneByOrFail({ id: c.token_id });
      expect(JSON.stringify(row)).not.toContain('tkn_');
      const rt = await h.db.dataSource.getRepository(RefreshTokenEntity).findOneByOrFail({ tokenId: c.token_id });
      expect(rt.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    });

    it('issues custom permissions and a client id', async () => {
      const c = await issue(orgA.key, {
        user_id: 'alice@example.com',
        ttl_seconds: 120,
        client_id: 'sensor-1',
        permissions: { publish: ['devices/{client_id}/telemetry'], subscribe: ['devices/{client_id}/cmd/+', 'broadcast/#'] },
      });
      const claims = await verifyWithJwks(c.mqtt_credentials.password);
      expect(claims.perm).toEqual({ pub: ['devices/{client_id}/telemetry'], sub: ['devices/{client_id}/cmd/+', 'broadcast/#'] });
      expect(claims.cid).toBe('sensor-1');
      expect(claims.exp - claims.iat).toBe(120);
      expect(c.mqtt_credentials.username).toBe(`alice@example.com@${orgA.orgId}`);
    });

    it('grants nothing for an omitted direction when permissions are given', async () => {
      const c = await issue(orgA.key, { user_id: 'u1', permissions: { subscribe: ['news/#'] } });
      expect((await verifyWithJwks(c.mqtt_credentials.password)).perm).toEqual({ pub: [], sub: ['news/#'] });
    });

    it('allows short TTLs and caps long ones by the server maximum', async () => {
      const c = await issue(orgA.key, { user_id: 'u1', ttl_seconds: 2 });
      const claims = await verifyWithJwks(c.mqtt_credentials.password);
      expect(claims.exp - claims.iat).toBe(2);
      problem(await h.request('POST', '/v1/tokens', { key: orgA.key, body: { user_id: 'u1', ttl_seconds: 7201 } }), 400, 'ttl_too_long');
      await issue(orgA.key, { user_id: 'u1', ttl_seconds: 7200 });
    });

    it("caps TTLs by the org's maximum, lowering the default to it", async () => {
      const small = await h.createOrg({ maxTokenTtlSeconds: 600 });
      const res = await h.request('POST', '/v1/tokens', { key: small.key, body: { user_id: 'u1', ttl_seconds: 601 } });
      problem(res, 400, 'ttl_too_long');
      expect(res.json<{ max_ttl_seconds: number }>().max_ttl_seconds).toBe(600);
      const c = await issue(small.key, { user_id: 'u1' });
      const claims = await verifyWithJwks(c.mqtt_credentials.password);
      expect(claims.exp - claims.iat).toBe(600);
    });

    it("applies an org's new maximum to the very next token, however it was changed", async () => {
      const org = await h.createOrg({ maxTokenTtlSeconds: 600 });
      expect((await verifyWithJwks((await issue(org.key, { user_id: 'u1' })).mqtt_credentials.password)).exp).toBeDefined();
      // Behind the process's back (another replica, an operator): the cached terms no longer hold.
      await h.db.dataSource.query('UPDATE orgs SET max_token_ttl_seconds = 60 WHERE id = $1', [org.orgId]);
      const claims = await verifyWithJwks((await issue(org.key, { user_id: 'u1' })).mqtt_credentials.password);
      expect(claims.exp - claims.iat).toBe(60);
      problem(await h.request('POST', '/v1/tokens', { key: org.key, body: { user_id: 'u1', ttl_seconds: 61 } }), 400, 'ttl_too_long');
    });

    it('stores every one of a burst of concurrent issuances (one statement per batch), each once', async () => {
      const org = await h.createOrg();
      const burst = await Promise.all(Array.from({ length: 150 }, (_, i) => issue(org.key, { user_id: `burst${i}` })));
      const ids = burst.map((c) => c.token_id);
      expect(new Set(ids).size).toBe(ids.length);
      const rows = (await h.db.dataSource.query(
        'SELECT t.id, t.user_id, r.token_id FROM issued_tokens t JOIN refresh_tokens r ON r.token_id = t.id WHERE t.org_id = $1',
        [org.orgId],
      )) as { id: string; user_id: string }[];
      expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
      for (const [i, c] of burst.entries()) expect(rows.find((r) => r.id === c.token_id)?.user_id).toBe(`burst${i}`);
      // And they refresh, concurrently too: every chain rotates once.
      const refreshed = await Promise.all(burst.map((c) => refresh(c.refresh_token)));
      expect(refreshed.map((r) => r.status)).toEqual(burst.map(() => 200));
    });

    it.each([
      [{ user_id: 'u1', ttl_seconds: 0 }, 'validation_failed'],
      [{ user_id: 'u1', ttl_seconds: -5 }, 'validation_failed'],
      [{ user_id: 'u1', ttl_seconds: 1.5 }, 'validation_failed'],
      [{ user_id: 'a/b' }, 'invalid_user_id'],
      [{ user_id: '+' }, 'invalid_user_id'],
      [{ user_id: '$SYS' }, 'invalid_user_id'],
      [{ user_id: '' }, 'invalid_user_id'],
      [{ user_id: 'x'.repeat(129) }, 'invalid_user_id'],
      [{ user_id: 42 }, 'validation_failed'],
      [{}, 'validation_failed'],
      [{ user_id: 'u1', admin: true }, 'validation_failed'],
      [{ user_id: 'u1', permissions: { publish: ['a/#/b'] } }, 'invalid_permission'],
      [{ user_id: 'u1', permissions: { publish: ['a{user_id}'] } }, 'invalid_permission'],
      [{ user_id: 'u1', permissions: { subscribe: ['{tenant}/x'] } }, 'invalid_permission'],
      [{ user_id: 'u1', permissions: { subscribe: [''] } }, 'invalid_permission'],
      [{ user_id: 'u1', permissions: { publish: Array.from({ length: 65 }, (_, i) => `t/${i}`) } }, 'invalid_permission'],
      [{ user_id: 'u1', permissions: { publish: ['a'.repeat(257)] } }, 'invalid_permission'],
      [{ user_id: 'u1', permissions: { publish: 'a/b' } }, 'validation_failed'],
      [{ user_id: 'u1', permissions: { publish: [1] } }, 'validation_failed'],
      [{ user_id: 'u1', permissions: { write: ['a'] } }, 'validation_failed'],
      [{ user_id: 'u1', permissions: [] }, 'validation_failed'],
      [{ user_id: 'u1', permissions: 'all' }, 'validation_failed'],
      [{ user_id: 'u1', client_id: '' }, 'invalid_client_id'],
    ])('refuses %j with 400 %s', async (body, code) => {
      problem(await h.request('POST', '/v1/tokens', { key: orgA.key, body }), 400, code);
    });

    it('answers malformed JSON with a 400 problem', async () => {
      const res = await h.request('POST', '/v1/tokens', { key: orgA.key, rawBody: '{"user_id":' });
      problem(res, 400, 'malformed_json');
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    });

    it('requires a valid API key', async () => {
      problem(await h.request('POST', '/v1/tokens', { body: { user_id: 'u1' } }), 401, 'missing_api_key');
      problem(await h.request('POST', '/v1/tokens', { key: 'sk_nope', body: { user_id: 'u1' } }), 401, 'invalid_api_key');
      // Right shape, wrong checksum: refused before any hashing.
      const typo = tamper(orgA.key);
      problem(await h.request('POST', '/v1/tokens', { key: typo, body: { user_id: 'u1' } }), 401, 'invalid_api_key');
      const res = await h.request('POST', '/v1/tokens', { key: 'garbage', body: { user_id: 'u1' } });
      expect(res.headers['www-authenticate']).toBe('Bearer');
    });
  });

  describe('POST /v1/tokens/refresh', () => {
    it('rotates: new credentials in the same family, old access token still valid, old refresh token spent', async () => {
      const first = await issue(orgA.key, { user_id: 'rot', ttl_seconds: 300, client_id: 'c1', permissions: { publish: ['p/{user_id}'] } });
      const res = await refresh(first.refresh_token);
      expect(res.status).toBe(200);
      const second = res.json<Credentials>();
      expect(second.token_id).not.toBe(first.token_id);
      expect(second.refresh_token).not.toBe(first.refresh_token);
      expect(second.mqtt_credentials.username).toBe(`rot@${orgA.orgId}`);
      const claims = await verifyWithJwks(second.mqtt_credentials.password);
      expect(claims).toMatchObject({ sub: 'rot', cid: 'c1', perm: { pub: ['p/{user_id}'], sub: [] } });
      expect(claims.exp - claims.iat).toBe(300);

      const repo = h.db.dataSource.getRepository(IssuedTokenEntity);
      const [a, b] = await Promise.all([repo.findOneByOrFail({ id: first.token_id }), repo.findOneByOrFail({ id: second.token_id })]);
      expect(a.familyId).toBe(b.familyId);
      expect((await introspect(orgA.key, first.mqtt_credentials.password)).active).toBe(true);

      const third = await refresh(second.refresh_token);
      expect(third.status).toBe(200);
    });

    it('detects reuse: revokes the whole family, live tokens included, through the bus', async () => {
      const first = await issue(orgA.key, { user_id: 'victim' });
      const second = (await refresh(first.refresh_token)).json<Credentials>();
      const third = (await refresh(second.refresh_token)).json<Credentials>();
      const unrelated = await issue(orgA.key, { user_id: 'victim' });
      const publishedBefore = h.bus.published.length;

      problem(await refresh(first.refresh_token), 401, 'refresh_token_reused');

      const events = h.bus.published.slice(publishedBefore);
      expect(events).toHaveLength(1);
      expect(events[0].reason).toBe('refresh_reuse');
      expect([...events[0].credentialIds].sort()).toEqual([first.token_id, second.token_id, third.token_id].sort());
      expect(events[0].until).toBe(Date.parse(third.expires_at));
      const rows: Array<{ seq: string }> = await h.db.dataSource.query('SELECT seq FROM revocations WHERE seq = $1', [events[0].seq]);
      expect(rows).toHaveLength(1);

      for (const c of [first, second, third]) {
        expect((await introspect(orgA.key, c.mqtt_credentials.password)).active).toBe(false);
      }
      expect((await introspect(orgA.key, unrelated.mqtt_credentials.password)).active).toBe(true);
      // The latest refresh token of the family is dead too.
      problem(await refresh(third.refresh_token), 401, 'invalid_refresh_token');
      // Reusing again still says so, and publishes nothing new.
      problem(await refresh(second.refresh_token), 401, 'refresh_token_reused');
      expect(h.bus.published.length).toBe(publishedBefore + 1);
    });

    it('lets only one of two concurrent refreshes win', async () => {
      const c = await issue(orgA.key, { user_id: 'racer' });
      const results = await Promise.all([refresh(c.refresh_token), refresh(c.refresh_token)]);
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 401]);
      const loser = results.find((r) => r.status === 401);
      expect(loser?.json<Problem>().code).toBe('refresh_token_reused');
      // The two-holder situation revoked the family, the winner's new token included.
      const winner = results.find((r) => r.status === 200)?.json<Credentials>();
      expect((await introspect(orgA.key, winner?.mqtt_credentials.password ?? '')).active).toBe(false);
    });

    it('lets only one of many concurrent presentations of one refresh token win, the others see the reuse', async () => {
      const c = await issue(orgA.key, { user_id: 'racers' });
      const results = await Promise.all(Array.from({ length: 8 }, () => refresh(c.refresh_token)));
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      for (const r of results.filter((x) => x.status !== 200)) expect({ status: r.status, code: r.json<Problem>().code }).toEqual({ status: 401, code: 'refresh_token_reused' });
      const family = (await h.db.dataSource.query(
        'SELECT count(*)::int AS n FROM issued_tokens WHERE family_id = (SELECT family_id FROM issued_tokens WHERE id = $1)',
        [c.token_id],
      )) as { n: number }[];
      expect(family[0].n).toBe(2);
    });

    it('refuses unknown, malformed and expired refresh tokens', async () => {
      problem(await refresh(`rt_${randomBytes(32).toString('base64url')}`), 401, 'invalid_refresh_token');
      problem(await refresh('rt_short'), 401, 'invalid_refresh_token');
      problem(await h.request('POST', '/v1/tokens/refresh', { body: {} }), 400, 'validation_failed');
      const c = await issue(orgA.key, { user_id: 'old' });
      await h.db.dataSource.query(`UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE token_id = $1`, [c.token_id]);
      problem(await refresh(c.refresh_token), 401, 'invalid_refresh_token');
    });
  });

  describe('DELETE /v1/tokens/{id}', () => {
    it('revokes idempotently, publishes once, and kills the refresh token', async () => {
      const c = await issue(orgA.key, { user_id: 'del' });
      const before = h.bus.published.length;
      const first = await h.request('DELETE', `/v1/tokens/${c.token_id}`, { key: orgA.key });
      expect(first.status).toBe(204);
      expect(first.body).toBe('');
      expect((await h.request('DELETE', `/v1/tokens/${c.token_id}`, { key: orgA.key })).status).toBe(204);
      const events = h.bus.published.slice(before);
      expect(events).toEqual([
        expect.objectContaining({ credentialIds: [c.token_id], reason: 'token_revoked', until: Date.parse(c.expires_at) }),
      ]);
      expect((await introspect(orgA.key, c.mqtt_credentials.password)).active).toBe(false);
      problem(await refresh(c.refresh_token), 401, 'invalid_refresh_token');
    });

    it("answers 404 for another org's token, an unknown id and a malformed id", async () => {
      const c = await issue(orgA.key, { user_id: 'mine' });
      problem(await h.request('DELETE', `/v1/tokens/${c.token_id}`, { key: orgB.key }), 404, 'token_not_found');
      expect((await introspect(orgA.key, c.mqtt_credentials.password)).active).toBe(true);
      problem(await h.request('DELETE', `/v1/tokens/tok_${'0'.repeat(24)}`, { key: orgA.key }), 404, 'token_not_found');
      problem(await h.request('DELETE', '/v1/tokens/whatever', { key: orgA.key }), 404, 'token_not_found');
    });

    it('keeps the revocation when publishing fails (logged; the bus rebuilds from the table)', async () => {
      const c = await issue(orgA.key, { user_id: 'busdown' });
      h.bus.failPublish = true;
      try {
        expect((await h.request('DELETE', `/v1/tokens/${c.token_id}`, { key: orgA.key })).status).toBe(204);
      } finally {
        h.bus.failPublish = false;
      }
      expect((await introspect(orgA.key, c.mqtt_credentials.password)).active).toBe(false);
      expect(h.logLines.some((l) => l.includes('revocation committed but not published'))).toBe(true);
      const active = await new RevocationStore(h.db.dataSource).listActive(Date.now());
      expect(active.some((e) => e.credentialIds.includes(c.token_id))).toBe(true);
    });
  });

  describe('POST /v1/users/{id}/revoke', () => {
    it("revokes all of the user's live tokens in the caller's org only", async () => {
      const mine = await Promise.all([1, 2, 3].map(() => issue(orgA.key, { user_id: 'bob' })));
      const other = await issue(orgA.key, { user_id: 'carol' });
      const otherOrg = await issue(orgB.key, { user_id: 'bob' });
      const before = h.bus.published.length;

      const res = await h.request('POST', '/v1/users/bob/revoke', { key: orgA.key });
      expect(res.status).toBe(200);
      expect(res.json<{ revoked: number }>()).toEqual({ revoked: 3 });
      const events = h.bus.published.slice(before);
      expect(events).toHaveLength(1);
      expect([...events[0].credentialIds].sort()).toEqual(mine.map((c) => c.token_id).sort());
      expect(events[0].reason).toBe('user_revoked');

      for (const c of mine) expect((await introspect(orgA.key, c.mqtt_credentials.password)).active).toBe(false);
      problem(await refresh(mine[0].refresh_token), 401, 'invalid_refresh_token');
      expect((await introspect(orgA.key, other.mqtt_credentials.password)).active).toBe(true);
      expect((await introspect(orgB.key, otherOrg.mqtt_credentials.password)).active).toBe(true);

      expect((await h.request('POST', '/v1/users/bob/revoke', { key: orgA.key })).json<{ revoked: number }>()).toEqual({ revoked: 0 });
      expect(h.bus.published.length).toBe(before + 1);
      problem(await h.request('POST', `/v1/users/${encodeURIComponent('$bad')}/revoke`, { key: orgA.key }), 400, 'invalid_user_id');
    });
  });

  describe('GET /v1/tokens', () => {
    it('lists metadata only, org-scoped, with statuses and pagination', async () => {
      const user = `lister_${randomBytes(3).toString('hex')}`;
      const issued: Credentials[] = [];
      for (let i = 0; i < 5; i++) issued.push(await issue(orgA.key, { user_id: user }));
      await h.request('DELETE', `/v1/tokens/${issued[0].token_id}`, { key: orgA.key });

      const res = await h.request('GET', `/v1/tokens?user_id=${user}`, { key: orgA.key });
      expect(res.status).toBe(200);
      expect(res.body).not.toMatch(SECRET_PATTERN);
      const list = res.json<TokenList>();
      expect(list.tokens.map((t) => t.token_id).sort()).toEqual(issued.map((c) => c.token_id).sort());
      expect(list.next_cursor).toBeNull();
      const revoked = list.tokens.find((t) => t.token_id === issued[0].token_id);
      expect(revoked).toMatchObject({ status: 'revoked', user_id: user });
      expect(revoked?.revoked_at).toEqual(expect.any(String));
      expect(Object.keys(list.tokens[0]).sort()).toEqual(
        ['client_id', 'expires_at', 'issued_at', 'permissions', 'revoked_at', 'status', 'token_id', 'user_id'].sort(),
      );

      const active = (await h.request('GET', `/v1/tokens?user_id=${user}&status=active`, { key: orgA.key })).json<TokenList>();
      expect(active.tokens).toHaveLength(4);

      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const url: string = `/v1/tokens?user_id=${user}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const page: TokenList = (await h.request('GET', url, { key: orgA.key })).json<TokenList>();
        expect(page.tokens.length).toBeLessThanOrEqual(2);
        seen.push(...page.tokens.map((t) => t.token_id));
        cursor = page.next_cursor;
      } while (cursor);
      expect(seen.sort()).toEqual(issued.map((c) => c.token_id).sort());

      const fromB = (await h.request('GET', `/v1/tokens?user_id=${user}`, { key: orgB.key })).json<TokenList>();
      expect(fromB.tokens).toEqual([]);
      problem(await h.request('GET', '/v1/tokens?limit=1000', { key: orgA.key }), 400, 'validation_failed');
      problem(await h.request('GET', '/v1/tokens?cursor=bm9wZQ', { key: orgA.key }), 400, 'invalid_cursor');
    });
  });

  describe('POST /v1/tokens/introspect', () => {
    it('describes an active token (RFC 7662)', async () => {
      const c = await issue(orgA.key, { user_id: 'intro', client_id: 'cl', permissions: { publish: ['a/b'], subscribe: ['c/#'] } });
      const r = await introspect(orgA.key, c.mqtt_credentials.password);
      expect(r).toEqual({
        active: true,
        sub: 'intro',
        org_id: orgA.orgId,
        client_id: 'cl',
        exp: Math.floor(Date.parse(c.expires_at) / 1000),
        iat: expect.any(Number),
        jti: c.token_id,
        token_type: 'Bearer',
        username: `intro@${orgA.orgId}`,
        permissions: { publish: ['a/b'], subscribe: ['c/#'] },
      });
    });

    it('says only active=false for forged, garbage, expired and foreign tokens', async () => {
      const c = await issue(orgA.key, { user_id: 'intro2', ttl_seconds: 1 });
      const [head, payload, sig] = c.mqtt_credentials.password.split('.');
      const flipped = tamper(sig, 2);
      expect(await introspect(orgA.key, `${head}.${payload}.${flipped}`)).toEqual({ active: false });
      const forgedClaims = Buffer.from(
        JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'admin' }),
      ).toString('base64url');
      expect(await introspect(orgA.key, `${head}.${forgedClaims}.${sig}`)).toEqual({ active: false });
      expect(await introspect(orgA.key, 'not-a-token')).toEqual({ active: false });
      expect(await introspect(orgA.key, c.refresh_token)).toEqual({ active: false });
      // Another org cannot even learn that the token exists.
      expect(await introspect(orgB.key, c.mqtt_credentials.password)).toEqual({ active: false });
      await new Promise((r) => setTimeout(r, 2100));
      expect(await introspect(orgA.key, c.mqtt_credentials.password)).toEqual({ active: false });
    });
  });

  describe('restricted keys', () => {
    it('need the route scope', async () => {
      const reader = await h.createOrg({ type: 'restricted', scopes: ['tokens:read'] });
      expect(reader.key).toMatch(/^rk_/);
      expect((await h.request('GET', '/v1/tokens', { key: reader.key })).status).toBe(200);
      problem(await h.request('POST', '/v1/tokens', { key: reader.key, body: { user_id: 'u' } }), 403, 'insufficient_scope');
    });
  });

  describe('signing keys and JWKS', () => {
    it('publishes public keys only, keeps retired keys until their tokens expire, and signs with the new key', async () => {
      const before = await issue(orgA.key, { user_id: 'rotation' });
      const res = await h.request('GET', '/.well-known/jwks.json');
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('public, max-age=60');
      const { keys } = res.json<{ keys: JWK[] }>();
      expect(keys).toHaveLength(1);
      // ES256 by default: the public point only.
      expect(Object.keys(keys[0]).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
      expect(keys[0]).toMatchObject({ kty: 'EC', alg: 'ES256', crv: 'P-256' });
      const oldKid = keys[0].kid;

      const signingKeys = h.app.get(SigningKeysService);
      const rotated = await signingKeys.rotate();
      expect(rotated.retired).toEqual([oldKid]);

      const after = (await h.request('GET', '/.well-known/jwks.json')).json<{ keys: JWK[] }>().keys;
      expect(after.map((k) => k.kid).sort()).toEqual([oldKid, rotated.kid].sort());
      expect((await signingKeys.publicJwks()).map((k) => k.kid).sort()).toEqual([oldKid, rotated.kid].sort());

      const fresh = await issue(orgA.key, { user_id: 'rotation' });
      const header = JSON.parse(Buffer.from(fresh.mqtt_credentials.password.slice(4).split('.')[0], 'base64url').toString()) as {
        kid: string;
      };
      expect(header.kid).toBe(rotated.kid);
      expect((await introspect(orgA.key, before.mqtt_credentials.password)).active).toBe(true);
      expect((await introspect(orgA.key, fresh.mqtt_credentials.password)).active).toBe(true);

      const row: Array<{ not_after: Date }> = await h.db.dataSource.query('SELECT not_after FROM signing_keys WHERE kid = $1', [oldKid]);
      // Published at least as long as the longest token it could have signed.
      expect(row[0].not_after.getTime()).toBeGreaterThanOrEqual(Date.now() + h.config.tokens.maxTtlSeconds * 1000);

      // Retired keys leave once their not_after has passed.
      await h.db.dataSource.query(`UPDATE signing_keys SET not_after = now() - interval '1 second' WHERE kid = $1`, [oldKid]);
      await signingKeys.reload(true);
      expect((await signingKeys.publicJwks()).map((k) => k.kid)).toEqual([rotated.kid]);
    });

    it('stores private keys only sealed', async () => {
      const rows: Array<{ private_jwk_ciphertext: string; public_jwk: object }> = await h.db.dataSource.query(
        'SELECT private_jwk_ciphertext, public_jwk FROM signing_keys',
      );
      for (const row of rows) {
        expect(JSON.parse(row.private_jwk_ciphertext)).toEqual(
          expect.objectContaining({ v: 1, kid: expect.any(String), iv: expect.any(String), tag: expect.any(String), ct: expect.any(String) }),
        );
        expect(row.private_jwk_ciphertext).not.toContain('"d"');
        expect(Object.keys(row.public_jwk)).not.toContain('d');
      }
    });
  });

  describe('GET/PATCH /v1/org/settings (will policy)', () => {
    const settings = (key: string) => h.request('GET', '/v1/org/settings', { key });
    const patch = (key: string, body: unknown) => h.request('PATCH', '/v1/org/settings', { key, body });
    const willClaim = async (password: string) => (await verifyWithJwks(password)).will;

    it('defaults to suppress, and then issues tokens without a will claim', async () => {
      const org = await h.createOrg();
      const res = await settings(org.key);
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ will_on_revoke: 'suppress' });
      expect(await willClaim((await issue(org.key, { user_id: 'u1' })).mqtt_credentials.password)).toBeUndefined();
    });

    it('changes per org: issue, refresh and later tokens carry the policy; other orgs are not affected', async () => {
      const org = await h.createOrg();
      const other = await h.createOrg();
      const before = await issue(org.key, { user_id: 'u1' });
      const res = await patch(org.key, { will_on_revoke: 'publish' });
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ will_on_revoke: 'publish' });
      expect((await settings(org.key)).json()).toEqual({ will_on_revoke: 'publish' });
      expect((await settings(other.key)).json()).toEqual({ will_on_revoke: 'suppress' });

      // Issued before the change: unchanged (the policy travels in the token).
      expect(await willClaim(before.mqtt_credentials.password)).toBeUndefined();
      const issued = await issue(org.key, { user_id: 'u1' });
      expect(await willClaim(issued.mqtt_credentials.password)).toBe('publish');
      const refreshed = await refresh(before.refresh_token);
      expect(refreshed.status).toBe(200);
      expect(await willClaim(refreshed.json<Credentials>().mqtt_credentials.password)).toBe('publish');
      expect(await willClaim((await issue(other.key, { user_id: 'u1' })).mqtt_credentials.password)).toBeUndefined();

      // Back to the default: the next token has no claim again.
      expect((await patch(org.key, { will_on_revoke: 'suppress' })).json()).toEqual({ will_on_revoke: 'suppress' });
      expect(await willClaim((await issue(org.key, { user_id: 'u1' })).mqtt_credentials.password)).toBeUndefined();
      const row = await h.db.dataSource.getRepository(OrgSettingsEntity).findOneByOrFail({ orgId: org.orgId });
      expect(row.willOnRevoke).toBe('suppress');
    });

    it('leaves the settings alone for an empty PATCH', async () => {
      const org = await h.createOrg();
      await patch(org.key, { will_on_revoke: 'publish' });
      const res = await patch(org.key, {});
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ will_on_revoke: 'publish' });
    });

    it('refuses unknown values and fields with a 400 problem', async () => {
      const org = await h.createOrg();
      for (const body of [{ will_on_revoke: 'sometimes' }, { will_on_revoke: null }, { will_on_revoke: 1 }, { will_on_revoke: 'publish', extra: true }, { color: 'blue' }]) {
        const res = await patch(org.key, body);
        problem(res, 400, 'validation_failed');
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
      problem(await h.request('PATCH', '/v1/org/settings', { key: org.key, rawBody: '{"will_on_revoke":' }), 400, 'malformed_json');
      expect((await settings(org.key)).json()).toEqual({ will_on_revoke: 'suppress' });
    });

    it('requires a key, and org:read / org:write for restricted keys', async () => {
      problem(await h.request('GET', '/v1/org/settings'), 401, 'missing_api_key');
      const tokensOnly = await h.createOrg({ type: 'restricted', scopes: ['tokens:write', 'tokens:read'] });
      problem(await settings(tokensOnly.key), 403, 'insufficient_scope');
      problem(await patch(tokensOnly.key, { will_on_revoke: 'publish' }), 403, 'insufficient_scope');

      const reader = await h.createOrg({ type: 'restricted', scopes: ['org:read'] });
      expect((await settings(reader.key)).status).toBe(200);
      problem(await patch(reader.key, { will_on_revoke: 'publish' }), 403, 'insufficient_scope');

      const writer = await h.createOrg({ type: 'restricted', scopes: ['org:write'] });
      expect((await patch(writer.key, { will_on_revoke: 'publish' })).json()).toEqual({ will_on_revoke: 'publish' });
    });
  });

  describe('retention (TokenRetentionJob)', () => {
    const job = () => h.app.get(TokenRetentionJob);
    const gone = { token: false, refreshToken: false };
    const kept = { token: true, refreshToken: true };

    it('deletes tokens, refresh tokens and revocations that ended before the retention period, and nothing else', async () => {
      const old = await issue(orgA.key, { user_id: 'retention' });
      await expireToken(h.db, old.token_id, 8);
      await ageRefreshToken(h.db, old.token_id, { expired: 8 });
      const recent = await issue(orgA.key, { user_id: 'retention' });
      await expireToken(h.db, recent.token_id, 6);
      await ageRefreshToken(h.db, recent.token_id, { expired: 6 });
      // Expired long ago, but its refresh token still works: refreshing needs the token's row.
      const waiting = await issue(orgA.key, { user_id: 'retention' });
      await expireToken(h.db, waiting.token_id, 8);
      const revokedLongAgo = await issue(orgA.key, { user_id: 'retention' });
      await expireToken(h.db, revokedLongAgo.token_id, 8);
      await ageRefreshToken(h.db, revokedLongAgo.token_id, { revoked: 8 });
      // Revoked, not yet expired: listed as revoked until it would have expired + retention.
      const revokedNow = await issue(orgA.key, { user_id: 'retention' });
      expect((await h.request('DELETE', `/v1/tokens/${revokedNow.token_id}`, { key: orgA.key })).status).toBe(204);

      const store = new RevocationStore(h.db.dataSource);
      const [moot, recentlyMoot, inForce] = await Promise.all(
        [-8 * DAY_MS, -6 * DAY_MS, 3_600_000].map((offset) =>
          inTransaction(h.db.dataSource, (m) => store.append(m, { credentialIds: ['tok_retention'], until: Date.now() + offset, reason: 'token_revoked' })),
        ),
      );

      expect(await job().run()).toEqual({ issuedTokens: 2, refreshTokens: 2, revocations: 1 });

      expect(await rowsOf(h.db, old.token_id)).toEqual(gone);
      expect(await rowsOf(h.db, revokedLongAgo.token_id)).toEqual(gone);
      expect(await rowsOf(h.db, recent.token_id)).toEqual(kept);
      expect(await rowsOf(h.db, waiting.token_id)).toEqual(kept);
      expect(await rowsOf(h.db, revokedNow.token_id)).toEqual(kept);
      const seqs: Array<{ seq: string }> = await h.db.dataSource.query('SELECT seq FROM revocations WHERE seq = ANY($1)', [
        [moot.seq, recentlyMoot.seq, inForce.seq],
      ]);
      expect(seqs.map((r) => Number(r.seq)).sort()).toEqual([recentlyMoot.seq, inForce.seq].sort());
      expect((await store.listActive(Date.now())).map((r) => r.seq)).toContain(inForce.seq);

      const listed = (await h.request('GET', '/v1/tokens?user_id=retention', { key: orgA.key })).json<TokenList>();
      expect(listed.tokens.map((t) => [t.token_id, t.status]).sort()).toEqual(
        [
          [recent.token_id, 'expired'],
          [waiting.token_id, 'expired'],
          [revokedNow.token_id, 'revoked'],
        ].sort(),
      );
      expect((await refresh(waiting.refresh_token)).status).toBe(200);

      const metrics = (await h.request('GET', '/metrics')).body;
      expect(metrics).toContain('signet_retention_pruned_rows_total{table="issued_tokens"} 2');
      expect(metrics).toContain('signet_retention_pruned_rows_total{table="refresh_tokens"} 2');
      expect(metrics).toContain('signet_retention_pruned_rows_total{table="revocations"} 1');
      const logged = h.logLines.map((l) => JSON.parse(l) as { msg: string; issuedTokens?: number }).find((l) => l.msg.startsWith('retention: deleted'));
      expect(logged).toMatchObject({ issuedTokens: 2, refreshTokens: 2, revocations: 1 });

      // Idempotent: a second pass finds nothing.
      expect(await job().run()).toEqual({ issuedTokens: 0, refreshTokens: 0, revocations: 0 });
    });

    it('keeps reuse detection: a used refresh token of a live family still revokes the family after a prune', async () => {
      const first = await issue(orgA.key, { user_id: 'retention-reuse' });
      const second = (await refresh(first.refresh_token)).json<Credentials>();
      // The first token expired and its refresh token was used long ago; the refresh token itself is not expired.
      await expireToken(h.db, first.token_id, 8);
      await ageRefreshToken(h.db, first.token_id, { used: 8 });

      await job().run();
      expect(await rowsOf(h.db, first.token_id)).toEqual(kept);

      problem(await refresh(first.refresh_token), 401, 'refresh_token_reused');
      expect((await introspect(orgA.key, second.mqtt_credentials.password)).active).toBe(false);
      problem(await refresh(second.refresh_token), 401, 'invalid_refresh_token');
    });

    it('never serves a replayed refresh token whose rows were pruned (used, then expired before the retention period)', async () => {
      const first = await issue(orgA.key, { user_id: 'retention-replay' });
      const second = (await refresh(first.refresh_token)).json<Credentials>();
      await expireToken(h.db, first.token_id, 9);
      await ageRefreshToken(h.db, first.token_id, { used: 9, expired: 8 });

      await job().run();
      expect(await rowsOf(h.db, first.token_id)).toEqual(gone);

      problem(await refresh(first.refresh_token), 401, 'invalid_refresh_token');
      // The family's live members are untouched.
      expect((await introspect(orgA.key, second.mqtt_credentials.password)).active).toBe(true);
      expect((await refresh(second.refresh_token)).status).toBe(200);
    });

    it('lets replicas run at once: each row is deleted once', async () => {
      const olds = await Promise.all([1, 2, 3].map(() => issue(orgA.key, { user_id: 'retention-replicas' })));
      for (const c of olds) {
        await expireToken(h.db, c.token_id, 8);
        await ageRefreshToken(h.db, c.token_id, { expired: 8 });
      }
      const replica = () => new TokenRetentionJob(new TypeOrmTokenRetentionRepository(h.db.dataSource), tokensOptionsFrom(h.config), createLogger({ name: 'replica', level: 'silent' }));
      const passes = await Promise.all([job().run(), replica().run(), replica().run()]);
      const sum = (k: 'issuedTokens' | 'refreshTokens') => passes.reduce((n, p) => n + p[k], 0);
      expect([sum('issuedTokens'), sum('refreshTokens')]).toEqual([3, 3]);
      for (const c of olds) expect(await rowsOf(h.db, c.token_id)).toEqual(gone);
    });

    it('runs every SIGNET_PRUNE_INTERVAL_MS once started, and stops cleanly', async () => {
      const old = await issue(orgA.key, { user_id: 'retention-timer' });
      await expireToken(h.db, old.token_id, 8);
      await ageRefreshToken(h.db, old.token_id, { expired: 8 });
      const config = { ...h.config, upkeep: { ...h.config.upkeep, retention: { pruneIntervalMs: 50, retentionDays: 7 } } };
      const timed = new TokenRetentionJob(new TypeOrmTokenRetentionRepository(h.db.dataSource), tokensOptionsFrom(config), createLogger({ name: 'timed', level: 'silent' }));
      timed.onModuleInit();
      try {
        await waitFor(async () => !(await rowsOf(h.db, old.token_id)).token, { message: 'the scheduled pass deleted the old token' });
      } finally {
        await timed.onModuleDestroy();
      }
    });
  });

  it('documents the API in OpenAPI', async () => {
    const doc = (await h.request('GET', '/docs/openapi.json')).json<{ paths: Record<string, Record<string, unknown>> }>();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/tokens',
        '/v1/tokens/refresh',
        '/v1/tokens/introspect',
        '/v1/tokens/{token_id}',
        '/v1/users/{user_id}/revoke',
        '/.well-known/jwks.json',
        '/v1/org/settings',
      ]),
    );
    expect(Object.keys(doc.paths['/v1/tokens']).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/v1/org/settings']).sort()).toEqual(['get', 'patch']);
  });

  it('counts issued tokens in the metrics', async () => {
    const text = (await h.request('GET', '/metrics')).body;
    const count = Number(/^signet_tokens_issued_total (\d+)/m.exec(text)?.[1]);
    expect(count).toBeGreaterThan(10);
  });

  it('never logs a secret', () => {
    expect(h.logLines.length).toBeGreaterThan(0);
    const leaking = h.logLines.filter((l) => SECRET_PATTERN.test(l));
    expect(leaking).toEqual([]);
  });
});

describe('token service restart', () => {
  let pg: TestDatabase;
  beforeAll(async () => {
    pg = await createTestDatabase();
  });
  afterAll(() => pg?.drop());

  it('reuses the stored signing key and refuses a different master key', async () => {
    const masterKey = randomBytes(32).toString('base64');
    const first = await startHarness({}, { pg, masterKey });
    const boot = await first.bootstrap();
    const kid = (await first.app.get(SigningKeysService).publicJwks())[0].kid;
    const c = (await first.request('POST', '/v1/tokens', { key: boot?.apiKey, body: { user_id: 'u' } })).json<Credentials>();
    await first.close();

    const second = await startHarness({}, { pg, masterKey });
    try {
      expect(await second.bootstrap()).toBeNull();
      expect((await second.app.get(SigningKeysService).publicJwks()).map((k) => k.kid)).toEqual([kid]);
      const r = await second.request('POST', '/v1/tokens/introspect', { key: boot?.apiKey, body: { token: c.mqtt_credentials.password } });
      expect(r.json<Introspection>().active).toBe(true);
    } finally {
      await second.close();
    }

    await expect(startHarness({}, { pg, masterKey: randomBytes(32).toString('base64') })).rejects.toThrow(/SIGNET_MASTER_KEY/);
  });

  it('switches the signing algorithm at a start with another SIGNET_TOKEN_SIGNING_ALG, once; old tokens stay valid', async () => {
    const db = await createTestDatabase();
    const masterKey = randomBytes(32).toString('base64');
    const algOf = (c: Credentials) => (JSON.parse(Buffer.from(c.mqtt_credentials.password.slice(4).split('.')[0], 'base64url').toString()) as { alg: string }).alg;
    const kids = async (x: Harness) => (await x.app.get(SigningKeysService).publicJwks()).map((k) => `${k.kid} ${k.alg}`).sort();
    const first = await startHarness({}, { pg: db, masterKey });
    const boot = await first.bootstrap();
    const issueOne = (x: Harness) => x.request('POST', '/v1/tokens', { key: boot?.apiKey, body: { user_id: 'u' } }).then((r) => r.json<Credentials>());
    const es = await issueOne(first);
    expect(algOf(es)).toBe('ES256');
    await first.close();
    try {
      const second = await startHarness({ SIGNET_TOKEN_SIGNING_ALG: 'RS256' }, { pg: db, masterKey });
      const published = await kids(second);
      const rs = await issueOne(second);
      expect(algOf(rs)).toBe('RS256');
      expect(published.map((k) => k.split(' ')[1]).sort()).toEqual(['ES256', 'RS256']);
      for (const token of [es, rs]) {
        const r = await second.request('POST', '/v1/tokens/introspect', { key: boot?.apiKey, body: { token: token.mqtt_credentials.password } });
        expect(r.json<Introspection>().active).toBe(true);
      }
      await second.close();
      // The same setting again: nothing rotates.
      const third = await startHarness({ SIGNET_TOKEN_SIGNING_ALG: 'RS256' }, { pg: db, masterKey });
      expect(await kids(third)).toEqual(published);
      await third.close();
      await expect(startHarness({ SIGNET_TOKEN_SIGNING_ALG: 'HS256' }, { pg: db, masterKey })).rejects.toThrow(/SIGNET_TOKEN_SIGNING_ALG/);
    } finally {
      await db.drop();
    }
  });
});

describe('token service over embedded PGlite', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({}, 'embedded');
  });
  afterAll(() => h?.close());

  it('issues, rotates, detects reuse and revokes with the same SQL as on PostgreSQL', async () => {
    expect(h.db.embedded).toBe(true);
    const boot = await h.bootstrap();
    const key = boot?.apiKey ?? '';
    const first = (await h.request('POST', '/v1/tokens', { key, body: { user_id: 'emb' } })).json<Credentials>();
    const results = await Promise.all([
      h.request('POST', '/v1/tokens/refresh', { body: { refresh_token: first.refresh_token } }),
      h.request('POST', '/v1/tokens/refresh', { body: { refresh_token: first.refresh_token } }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    expect(h.bus.published.at(-1)?.reason).toBe('refresh_reuse');

    const other = (await h.request('POST', '/v1/tokens', { key, body: { user_id: 'emb' } })).json<Credentials>();
    expect((await h.request('DELETE', `/v1/tokens/${other.token_id}`, { key })).status).toBe(204);
    const r = await h.request('POST', '/v1/tokens/introspect', { key, body: { token: other.mqtt_credentials.password } });
    expect(r.json<Introspection>()).toEqual({ active: false });
    const listed = (await h.request('GET', '/v1/tokens?user_id=emb', { key })).json<TokenList>();
    expect(listed.tokens.map((t) => t.status).sort()).toEqual(['revoked', 'revoked', 'revoked']);
  });

  it('prunes with the same SQL: old rows go, a used refresh token of a live family still revokes it afterwards', async () => {
    const { key } = await h.createOrg();
    const issueFor = async (userId: string) => (await h.request('POST', '/v1/tokens', { key, body: { user_id: userId } })).json<Credentials>();
    const refreshWith = (c: Credentials) => h.request('POST', '/v1/tokens/refresh', { body: { refresh_token: c.refresh_token } });
    const old = await issueFor('emb-old');
    await expireToken(h.db, old.token_id, 8);
    await ageRefreshToken(h.db, old.token_id, { expired: 8 });
    const first = await issueFor('emb-reuse');
    const second = (await refreshWith(first)).json<Credentials>();
    await expireToken(h.db, first.token_id, 8);
    await ageRefreshToken(h.db, first.token_id, { used: 8 });
    await inTransaction(h.db.dataSource, (m) => new RevocationStore(h.db.dataSource).append(m, { credentialIds: ['tok_emb'], until: Date.now() - 8 * DAY_MS, reason: 'token_revoked' }));

    expect(await h.app.get(TokenRetentionJob).run()).toEqual({ issuedTokens: 1, refreshTokens: 1, revocations: 1 });
    expect(await rowsOf(h.db, old.token_id)).toEqual({ token: false, refreshToken: false });
    expect(await rowsOf(h.db, first.token_id)).toEqual({ token: true, refreshToken: true });

    const replay = await refreshWith(first);
    expect([replay.status, replay.json<Problem>().code]).toEqual([401, 'refresh_token_reused']);
    const r = await h.request('POST', '/v1/tokens/introspect', { key, body: { token: second.mqtt_credentials.password } });
    expect(r.json<Introspection>()).toEqual({ active: false });
  });
});
