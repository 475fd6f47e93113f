import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { decodeJwt, generateKeyPair, JWTPayload } from 'jose';

import { ApiKeysModule, ApiKeysService, BootstrapService } from '@signet/api-keys';
import { loadConfig } from '@signet/config';
import { createHttpApp } from '@signet/http';
import { createLogger, SignetMetrics } from '@signet/observability';
import { IdpProviderEntity, IssuedTokenEntity, OpenedDatabase, openDatabase, OrgEntity, SecretBox } from '@signet/persistence';
import { InMemoryRevocationBus } from '@signet/revocation';
import { platformProviders } from '@signet/runtime';
import { createTestDatabase, TestDatabase } from '@signet/testing';
import { type TokenCredentialsDto as Credentials, TokensModule, tokensOptionsFrom } from '@signet/tokens';

import { FederationModule } from './federation.module';
import { federationOptionsFrom } from './options';
import { JwksPeer, newKey, nowSeconds, OidcPeer, sign, startOidcProvider, TestKey } from './testing/idp-peers';

jest.setTimeout(60_000);

/*
 * IdP federation against real peers on loopback: a JWKS server standing in
 * for Supabase, Google securetoken, Auth0 and Clerk (tokens with their exact
 * claims, issuers and algorithms), and oidc-provider as a real OpenID
 * Provider in a child process; the app as the processes build it, over a
 * fresh PostgreSQL database.
 */

interface Response {
  status: number;
  headers: Record<string, unknown>;
  body: string;
  json<T = Record<string, unknown>>(): T;
}

const SUPABASE_SECRET = 'super-secret-jwt-token-with-at-least-32-characters-long';
const AUTH0_AUDIENCE = 'https://mqtt.signet.example';
const AUTH0_ROLES = 'https://signet.example/roles';
const CLERK_ORIGIN = 'http://localhost:3000';
const FIREBASE_PROJECT = 'signet-test-1234';

let pg: TestDatabase;
let db: OpenedDatabase;
let app: NestFastifyApplication;
let dataDir: string;
let peer: JwksPeer;
let sk: string;
let orgId: string;
let logLines: string[];

// Keys of the emulated IdPs.
let supabaseEs: TestKey;
let firebaseKey: TestKey;
let auth0Key: TestKey;
let clerkKey: TestKey;
let attacker: TestKey;

const federationEnv = { SIGNET_IDP_FETCH_TIMEOUT_MS: '500', SIGNET_IDP_REFETCH_COOLDOWN_MS: '300', SIGNET_IDP_CLOCK_TOLERANCE_SECONDS: '30' };
let masterKey: string;

/** The app as the processes build it, over the file's database, with `env` on top of its settings. */
async function startApp(env: Record<string, string>, logger = createLogger({ name: 'test', level: 'silent' })): Promise<NestFastifyApplication> {
  const config = loadConfig({
    SIGNET_DATA_DIR: dataDir,
    SIGNET_MASTER_KEY: masterKey,
    DATABASE_URL: pg.url,
    ...federationEnv,
    SIGNET_IDP_FIREBASE_JWKS_URI: `${peer.origin}/firebase/jwks`,
    ...env,
  });
  const bus = new InMemoryRevocationBus();
  await bus.start();
  const started = await createHttpApp({
    title: 'test',
    logger,
    metrics: new SignetMetrics({ defaults: false }),
    providers: platformProviders({ config, dataSource: db.dataSource, bus, secretBox: new SecretBox(Buffer.from(masterKey, 'base64')) }),
    imports: [ApiKeysModule, TokensModule.forRoot(tokensOptionsFrom(config)), FederationModule.forRoot(federationOptionsFrom(config))],
  });
  await started.init();
  await started.getHttpAdapter().getInstance().ready();
  return started;
}

async function request(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  init: { bearer?: string; body?: unknown; ip?: string; to?: NestFastifyApplication } = {},
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (init.bearer !== undefined) headers.authorization = `Bearer ${init.bearer}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await (init.to ?? app).getHttpAdapter().getInstance().inject({
    method,
    url,
    headers,
    payload: init.body === undefined ? undefined : JSON.stringify(init.body),
    ...(init.ip === undefined ? {} : { remoteAddress: init.ip }),
  });
  return { status: res.statusCode, headers: res.headers, body: res.body, json: <T>() => JSON.parse(res.body) as T };
}

async function createProvider(body: Record<string, unknown>): Promise<string> {
  const res = await request('POST', '/v1/idp-providers', { bearer: sk, body });
  expect(res.status).toBe(201);
  return res.json<{ id: string }>().id;
}

const exchange = (providerId: string, token: string): Promise<Response> =>
  request('POST', '/v1/federation/exchange', { bearer: token, body: { provider_id: providerId } });

/** The refusal: 401 problem+json with the code, and nothing that looks like a stack. */
async function expectRefused(res: Response | Promise<Response>, code: string, status = 401): Promise<void> {
  const r = await res;
  expect({ status: r.status, code: r.json().code }).toEqual({ status, code });
  expect(String(r.headers['content-type'])).toContain('application/problem+json');
  expect(r.body).not.toMatch(/\bat .*\.(ts|js):\d+/);
}

/** The claims of an issued tkn_ (its permissions are what the edge enforces). */
function tokenClaims(res: Response): JWTPayload & { perm: { pub: string[]; sub: string[] } } {
  expect(res.status).toBe(201);
  const password = res.json<Credentials>().mqtt_credentials.password;
  return decodeJwt(password.slice('tkn_'.length)) as JWTPayload & { perm: { pub: string[]; sub: string[] } };
}

beforeAll(async () => {
  [supabaseEs, firebaseKey, auth0Key, clerkKey, attacker] = await Promise.all([
    newKey('ES256', 'supabase-es-1'),
    newKey('RS256', 'firebase-1'),
    newKey('RS256', 'auth0-1'),
    newKey('RS256', 'clerk-1'),
    newKey('RS256', 'auth0-1'),
  ]);
  peer = await JwksPeer.start();
  peer.sets.set('/supabase/auth/v1/.well-known/jwks.json', [supabaseEs.publicJwk]);
  peer.sets.set('/firebase/jwks', [firebaseKey.publicJwk]);
  peer.sets.set('/.well-known/jwks.json', [auth0Key.publicJwk]);
  peer.sets.set('/clerk/.well-known/jwks.json', [clerkKey.publicJwk]);
  peer.sets.set('/evil/jwks', [attacker.publicJwk]);

  pg = await createTestDatabase('signet_fed');
  dataDir = await mkdtemp(join(tmpdir(), 'signet-federation-'));
  masterKey = randomBytes(32).toString('base64');
  logLines = [];
  const logger = createLogger({ name: 'test', level: 'debug', destination: { write: (line: string) => void logLines.push(line) } });
  db = await openDatabase(loadConfig({ SIGNET_DATA_DIR: dataDir, SIGNET_MASTER_KEY: masterKey, DATABASE_URL: pg.url }), logger);
  // Every exchange of this file comes from 127.0.0.1 within seconds: no per-address limit here (see 'public rate limit').
  app = await startApp({ SIGNET_PUBLIC_RATE_PER_IP: '0' }, logger);
  const boot = await app.get(BootstrapService).ensureBootstrap();
  if (!boot) throw new Error('no bootstrap key');
  sk = boot.apiKey;
  orgId = boot.orgId;
});

afterAll(async () => {
  await app?.close();
  await db?.close();
  await pg?.drop();
  await peer?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('providers API', () => {
  it('creates, lists, gets, updates, disables and deletes; secrets are sealed and never returned', async () => {
    const created = await request('POST', '/v1/idp-providers', {
      bearer: sk,
      body: { kind: 'supabase', name: 'app', project_url: `${peer.origin}/supabase`, jwt_secret: SUPABASE_SECRET },
    });
    expect(created.status).toBe(201);
    const provider = created.json<{ id: string; has_secret: boolean; settings: Record<string, unknown> }>();
    expect(provider.id).toMatch(/^idp_[0-9a-f]{24}$/);
    expect(provider.has_secret).toBe(true);
    expect(created.body).not.toContain(SUPABASE_SECRET);
    expect(provider.settings).toEqual({ project_url: `${peer.origin}/supabase`, user_id_claim: 'sub' });
    const row = await db.dataSource.getRepository(IdpProviderEntity).findOneByOrFail({ id: provider.id });
    expect(row.secretCiphertext).not.toContain(SUPABASE_SECRET);
    expect(JSON.stringify(row.settings)).not.toContain(SUPABASE_SECRET);

    const list = await request('GET', '/v1/idp-providers', { bearer: sk });
    expect(list.json<{ providers: { id: string }[] }>().providers.map((p) => p.id)).toContain(provider.id);
    expect(list.body).not.toContain(SUPABASE_SECRET);
    expect((await request('GET', `/v1/idp-providers/${provider.id}`, { bearer: sk })).json().kind).toBe('supabase');

    const updated = await request('PATCH', `/v1/idp-providers/${provider.id}`, { bearer: sk, body: { audience: 'custom', role_claim: 'app_metadata.roles' } });
    expect(updated.status).toBe(200);
    expect(updated.json<{ settings: Record<string, unknown>; has_secret: boolean }>()).toMatchObject({
      has_secret: true,
      settings: { audience: 'custom', role_claim: 'app_metadata.roles' },
    });
    const disabled = await request('POST', `/v1/idp-providers/${provider.id}/disable`, { bearer: sk });
    expect(disabled.json().enabled).toBe(false);
    expect((await request('DELETE', `/v1/idp-providers/${provider.id}`, { bearer: sk })).status).toBe(204);
    await expectRefused(request('GET', `/v1/idp-providers/${provider.id}`, { bearer: sk }), 'idp_provider_not_found', 404);
  });

  it.each([
    [{ kind: 'supabase', project_url: 'http://supabase.example.com' }, 'project_url'],
    [{ kind: 'supabase' }, 'project_url'],
    [{ kind: 'supabase', project_url: 'https://x.supabase.co', jwt_secret: 'short' }, 'jwt_secret'],
    [{ kind: 'firebase', project_id: 'Bad Id' }, 'project_id'],
    [{ kind: 'auth0', domain: 'x.auth0.com' }, 'audience'],
    [{ kind: 'clerk', issuer: 'https://clerk.example.com', project_id: 'abc-123' }, 'project_id'],
    [{ kind: 'oidc', issuer: 'https://op.example.com', algorithms: ['HS256'] }, 'algorithms'],
    [{ kind: 'jwt', issuer: 'https://i.example.com', audience: 'a', algorithms: ['none'], jwks_uri: 'https://i.example.com/jwks' }, 'algorithms'],
    [{ kind: 'jwt', issuer: 'https://i.example.com', audience: 'a', algorithms: ['HS256'], jwks_uri: 'https://i.example.com/jwks' }, 'algorithms'],
    [{ kind: 'jwt', issuer: 'https://i.example.com', audience: 'a', algorithms: ['RS256'] }, 'jwks_uri'],
    [{ kind: 'firebase', project_id: 'abc-123', permissions: { publish: ['a/#/b'] } }, 'permissions'],
    [{ kind: 'firebase', project_id: 'abc-123', role_permissions: { admin: ['x'] } }, 'role_permissions.admin'],
  ])('refuses invalid settings %j (field %s)', async (body, field) => {
    const res = await request('POST', '/v1/idp-providers', { bearer: sk, body });
    expect(res.status).toBe(400);
    expect(['invalid_provider_settings', 'invalid_permission']).toContain(res.json().code);
    expect(res.json().detail).toContain(field.split('.')[0]);
  });

  it('requires an API key', async () => {
    await expectRefused(request('GET', '/v1/idp-providers'), 'missing_api_key');
  });
});

describe('Supabase', () => {
  let hsProvider: string;
  let jwksProvider: string;
  const iss = () => `${peer.origin}/supabase/auth/v1`;
  const claims = (extra: JWTPayload = {}): JWTPayload => ({
    aud: 'authenticated',
    exp: nowSeconds() + 3600,
    iat: nowSeconds(),
    iss: iss(),
    sub: '5f1c2b9e-8a7d-4c3b-9e2f-1a2b3c4d5e6f',
    email: 'alice@example.com',
    phone: '',
    app_metadata: { provider: 'email', providers: ['email'], roles: ['admin'] },
    user_metadata: {},
    role: 'authenticated',
    aal: 'aal1',
    amr: [{ method: 'password', timestamp: nowSeconds() }],
    session_id: '7d3b1c2a-0000-4000-8000-000000000001',
    is_anonymous: false,
    ...extra,
  });

  beforeAll(async () => {
    const mapping = {
      role_claim: 'app_metadata.roles',
      permissions: { publish: ['users/{user_id}/#'], subscribe: ['users/{user_id}/#'] },
      role_permissions: { admin: { publish: ['admin/{user_id}'], subscribe: ['admin/#'] } },
    };
    hsProvider = await createProvider({ kind: 'supabase', project_url: `${peer.origin}/supabase`, jwt_secret: SUPABASE_SECRET, ...mapping });
    jwksProvider = await createProvider({ kind: 'supabase', project_url: `${peer.origin}/supabase/`, ...mapping });
  });

  it('exchanges a legacy HS256 token (secret as UTF-8) and maps app_metadata.roles', async () => {
    const token = await sign(claims(), new TextEncoder().encode(SUPABASE_SECRET), { alg: 'HS256' });
    const res = await exchange(hsProvider, token);
    const tkn = tokenClaims(res);
    expect(tkn.sub).toBe('5f1c2b9e-8a7d-4c3b-9e2f-1a2b3c4d5e6f');
    expect(tkn.org).toBe(orgId);
    expect(tkn.perm).toEqual({ pub: ['users/{user_id}/#', 'admin/{user_id}'], sub: ['users/{user_id}/#', 'admin/#'] });
    expect(res.json<Credentials>()).toEqual({
      token_id: expect.stringMatching(/^tok_/),
      mqtt_credentials: { username: `5f1c2b9e-8a7d-4c3b-9e2f-1a2b3c4d5e6f@${orgId}`, password: expect.stringMatching(/^tkn_/) },
      expires_at: expect.any(String),
      refresh_token: expect.stringMatching(/^rt_/),
      refresh_expires_at: expect.any(String),
    });
  });

  it('stores the IdP origin (provider, session_id, sub) on the token row, and keeps it across a refresh', async () => {
    const token = await sign(claims(), supabaseEs.privateKey, { alg: 'ES256', kid: supabaseEs.kid });
    const first = (await exchange(jwksProvider, token)).json<Credentials>();
    const refreshed = await request('POST', '/v1/tokens/refresh', { body: { refresh_token: first.refresh_token } });
    expect(refreshed.status).toBe(200);
    const rows = await db.dataSource
      .getRepository(IssuedTokenEntity)
      .findBy([{ id: first.token_id }, { id: refreshed.json<Credentials>().token_id }]);
    expect(rows.map((r) => ({ provider: r.idpProviderId, session: r.idpSessionId, subject: r.idpSubject }))).toEqual([
      { provider: jwksProvider, session: '7d3b1c2a-0000-4000-8000-000000000001', subject: '5f1c2b9e-8a7d-4c3b-9e2f-1a2b3c4d5e6f' },
      { provider: jwksProvider, session: '7d3b1c2a-0000-4000-8000-000000000001', subject: '5f1c2b9e-8a7d-4c3b-9e2f-1a2b3c4d5e6f' },
    ]);
  });

  it('exchanges an ES256 token verified with the project JWKS', async () => {
    const token = await sign(claims(), supabaseEs.privateKey, { alg: 'ES256', kid: supabaseEs.kid });
    expect(tokenClaims(await exchange(jwksProvider, token)).sub).toBe('5f1c2b9e-8a7d-4c3b-9e2f-1a2b3c4d5e6f');
  });

  it("carries the org's will policy (org settings) into exchanged tokens", async () => {
    const token = await sign(claims(), supabaseEs.privateKey, { alg: 'ES256', kid: supabaseEs.kid });
    expect(tokenClaims(await exchange(jwksProvider, token)).will).toBeUndefined();
    expect((await request('PATCH', '/v1/org/settings', { bearer: sk, body: { will_on_revoke: 'publish' } })).status).toBe(200);
    try {
      expect(tokenClaims(await exchange(jwksProvider, token)).will).toBe('publish');
    } finally {
      await request('PATCH', '/v1/org/settings', { bearer: sk, body: { will_on_revoke: 'suppress' } });
    }
  });

  it('grants no role permissions when no role maps, and refuses HS256 without a configured secret', async () => {
    const token = await sign(claims({ app_metadata: { roles: ['viewer'] } }), supabaseEs.privateKey, { alg: 'ES256', kid: supabaseEs.kid });
    expect(tokenClaims(await exchange(jwksProvider, token)).perm).toEqual({ pub: ['users/{user_id}/#'], sub: ['users/{user_id}/#'] });
    const hs = await sign(claims(), new TextEncoder().encode(SUPABASE_SECRET), { alg: 'HS256' });
    await expectRefused(exchange(jwksProvider, hs), 'unsupported_algorithm');
  });

  it('refuses the anon key, another audience and a wrong secret', async () => {
    const secret = new TextEncoder().encode(SUPABASE_SECRET);
    // The anon key is signed with the same secret, but has no aud (and iss "supabase", no sub).
    const anon = await sign({ iss: 'supabase', ref: 'abcdefghijklmnop', role: 'anon', iat: nowSeconds(), exp: nowSeconds() + 3600 }, secret, { alg: 'HS256' });
    await expectRefused(exchange(hsProvider, anon), 'invalid_audience');
    await expectRefused(exchange(hsProvider, await sign(claims({ iss: 'supabase' }), secret, { alg: 'HS256' })), 'invalid_issuer');
    await expectRefused(exchange(hsProvider, await sign(claims({ aud: 'anon' }), secret, { alg: 'HS256' })), 'invalid_audience');
    const wrong = await sign(claims(), new TextEncoder().encode('another-secret-that-is-also-long-enough-0000'), { alg: 'HS256' });
    await expectRefused(exchange(hsProvider, wrong), 'invalid_signature');
  });
});

describe('Firebase', () => {
  let provider: string;
  const claims = (extra: JWTPayload = {}): JWTPayload => ({
    iss: `https://securetoken.google.com/${FIREBASE_PROJECT}`,
    aud: FIREBASE_PROJECT,
    auth_time: nowSeconds() - 60,
    user_id: 'kXq1Yz0aBcDeFgHiJkLmNoPqRsT2',
    sub: 'kXq1Yz0aBcDeFgHiJkLmNoPqRsT2',
    iat: nowSeconds(),
    exp: nowSeconds() + 3600,
    email: 'bob@example.com',
    email_verified: true,
    firebase: { identities: { email: ['bob@example.com'] }, sign_in_provider: 'password' },
    roles: ['operator'],
    ...extra,
  });
  const signFirebase = (c: JWTPayload) => sign(c, firebaseKey.privateKey, { alg: 'RS256', kid: firebaseKey.kid });

  beforeAll(async () => {
    provider = await createProvider({
      kind: 'firebase',
      project_id: FIREBASE_PROJECT,
      role_claim: 'roles',
      role_permissions: { operator: { subscribe: ['devices/+/telemetry'] } },
    });
  });

  it("exchanges an ID token verified with Google's securetoken keys (JWK set)", async () => {
    const tkn = tokenClaims(await exchange(provider, await signFirebase(claims())));
    expect(tkn.sub).toBe('kXq1Yz0aBcDeFgHiJkLmNoPqRsT2');
    expect(tkn.perm.sub).toEqual(['users/{user_id}/#', 'devices/+/telemetry']);
  });

  it('refuses auth_time in the future, an empty sub, another project', async () => {
    await expectRefused(exchange(provider, await signFirebase(claims({ auth_time: nowSeconds() + 600 }))), 'invalid_claims');
    await expectRefused(exchange(provider, await signFirebase(claims({ sub: '' }))), 'invalid_claims');
    await expectRefused(exchange(provider, await signFirebase(claims({ aud: 'other-project' }))), 'invalid_audience');
    await expectRefused(exchange(provider, await signFirebase(claims({ iss: 'https://securetoken.google.com/other-project' }))), 'invalid_issuer');
  });
});

describe('Auth0', () => {
  let provider: string;
  const claims = (extra: JWTPayload = {}): JWTPayload => ({
    iss: `${peer.origin}/`,
    sub: 'auth0|64f1c2b9e8a7d4c3b9e2f1a2',
    aud: [AUTH0_AUDIENCE, `${peer.origin}/userinfo`],
    iat: nowSeconds(),
    exp: nowSeconds() + 86400,
    scope: 'openid profile email',
    azp: 'pQ7rS8tU9vW0xY1zA2bC3dE4fG5hI6jK',
    [AUTH0_ROLES]: ['operator', 'unmapped'],
    ...extra,
  });
  const signAuth0 = (c: JWTPayload, key = auth0Key) => sign(c, key.privateKey, { alg: 'RS256', kid: key.kid });

  beforeAll(async () => {
    provider = await createProvider({
      kind: 'auth0',
      domain: peer.origin,
      audience: AUTH0_AUDIENCE,
      role_claim: AUTH0_ROLES,
      permissions: {},
      role_permissions: { operator: { publish: ['devices/{user_id}/cmd'], subscribe: ['devices/#'] } },
    });
  });

  it('exchanges an access token and reads the namespaced role claim (a URL with dots) as one key', async () => {
    const tkn = tokenClaims(await exchange(provider, await signAuth0(claims())));
    expect(tkn.sub).toBe('auth0|64f1c2b9e8a7d4c3b9e2f1a2');
    // permissions: {} grants nothing by default; only the operator role maps.
    expect(tkn.perm).toEqual({ pub: ['devices/{user_id}/cmd'], sub: ['devices/#'] });
  });

  it('grants nothing when no role maps', async () => {
    const tkn = tokenClaims(await exchange(provider, await signAuth0(claims({ [AUTH0_ROLES]: ['guest'] }))));
    expect(tkn.perm).toEqual({ pub: [], sub: [] });
  });

  it('refuses HS256 signed with the public key (algorithm confusion), alg none, and header-supplied keys', async () => {
    const confused = await sign(claims(), new TextEncoder().encode(auth0Key.publicPem), { alg: 'HS256', kid: auth0Key.kid });
    await expectRefused(exchange(provider, confused), 'unsupported_algorithm');
    const header = (h: object) => Buffer.from(JSON.stringify(h)).toString('base64url');
    const body = Buffer.from(JSON.stringify(claims())).toString('base64url');
    await expectRefused(exchange(provider, `${header({ alg: 'none' })}.${body}.`), 'malformed_token');
    await expectRefused(exchange(provider, `${header({ alg: 'none' })}.${body}.AAAA`), 'unsupported_algorithm');
    // The attacker's key embedded in the header (jwk) or linked (jku) is never used: same kid, wrong signature.
    const embedded = await sign(claims(), attacker.privateKey, { alg: 'RS256', kid: auth0Key.kid, jwk: attacker.publicJwk });
    await expectRefused(exchange(provider, embedded), 'invalid_signature');
    const before = peer.count('/evil/jwks');
    const linked = await sign(claims(), attacker.privateKey, { alg: 'RS256', kid: 'evil-kid', jku: `${peer.origin}/evil/jwks` });
    await expectRefused(exchange(provider, linked), 'unknown_key');
    expect(peer.count('/evil/jwks')).toBe(before);
  });

  it('checks exp, nbf and iat with a bounded skew', async () => {
    await expectRefused(exchange(provider, await signAuth0(claims({ exp: nowSeconds() - 31 }))), 'token_expired');
    expect((await exchange(provider, await signAuth0(claims({ exp: nowSeconds() - 5 })))).status).toBe(201);
    await expectRefused(exchange(provider, await signAuth0(claims({ nbf: nowSeconds() + 120 }))), 'token_not_yet_valid');
    await expectRefused(exchange(provider, await signAuth0(claims({ iat: nowSeconds() + 120 }))), 'token_not_yet_valid');
    const noExp = claims();
    delete noExp.exp;
    await expectRefused(exchange(provider, await signAuth0(noExp)), 'invalid_claims');
  });

  it('applies size and shape limits before decoding', async () => {
    await expectRefused(exchange(provider, 'a'.repeat(20_000)), 'malformed_token');
    await expectRefused(exchange(provider, 'not-a-jwt'), 'malformed_token');
    await expectRefused(exchange(provider, 'a.b.c.d.e'), 'malformed_token');
    await expectRefused(exchange(provider, 'e30.e30.AAAA'), 'unsupported_algorithm');
    await expectRefused(exchange(provider, '!!!.e30.AAAA'), 'malformed_token');
  });

  it('refuses a missing token, an unknown or disabled provider', async () => {
    await expectRefused(request('POST', '/v1/federation/exchange', { body: { provider_id: provider } }), 'missing_idp_token');
    const token = await signAuth0(claims());
    await expectRefused(exchange('idp_000000000000000000000000', token), 'unknown_provider');
    await expectRefused(exchange('nonsense', token), 'unknown_provider');
    await request('POST', `/v1/idp-providers/${provider}/disable`, { bearer: sk });
    await expectRefused(exchange(provider, token), 'unknown_provider');
    await request('POST', `/v1/idp-providers/${provider}/enable`, { bearer: sk });
    expect((await exchange(provider, token)).status).toBe(201);
  });

  it('lets a backend exchange with its own API key, within its org only', async () => {
    const token = await signAuth0(claims());
    const res = await request('POST', '/v1/federation/exchange', { bearer: sk, body: { provider_id: provider, id_token: token } });
    expect(tokenClaims(res).sub).toBe('auth0|64f1c2b9e8a7d4c3b9e2f1a2');
    const otherOrg = `org_${randomBytes(6).toString('hex')}`;
    await db.dataSource.getRepository(OrgEntity).insert({ id: otherOrg, name: 'other', maxTokenTtlSeconds: null });
    const other = await app.get(ApiKeysService).createKey({ orgId: otherOrg, name: 'other', type: 'secret' });
    await expectRefused(request('POST', '/v1/federation/exchange', { bearer: other.apiKey, body: { provider_id: provider, id_token: token } }), 'unknown_provider');
    await expectRefused(request('POST', '/v1/federation/exchange', { body: { provider_id: provider, id_token: token } }), 'missing_api_key');
  });

  it('revokes an exchanged token like any other', async () => {
    const res = await exchange(provider, await signAuth0(claims()));
    const { token_id, mqtt_credentials } = res.json<Credentials>();
    expect((await request('DELETE', `/v1/tokens/${token_id}`, { bearer: sk })).status).toBe(204);
    const introspected = await request('POST', '/v1/tokens/introspect', { bearer: sk, body: { token: mqtt_credentials.password } });
    expect(introspected.json()).toEqual({ active: false });
  });

  it('never logs the IdP token', async () => {
    const token = await signAuth0(claims({ exp: nowSeconds() - 3600 }));
    await exchange(provider, token);
    const signature = token.split('.')[2];
    expect(logLines.some((l) => l.includes(signature))).toBe(false);
    expect(logLines.some((l) => l.includes('token_expired'))).toBe(true);
  });
});

describe('Clerk', () => {
  let provider: string;
  const claims = (extra: JWTPayload = {}): JWTPayload => ({
    azp: CLERK_ORIGIN,
    exp: nowSeconds() + 60,
    iat: nowSeconds(),
    iss: `${peer.origin}/clerk`,
    nbf: nowSeconds() - 10,
    sid: 'sess_2abcDEFghiJKLmnoPQRstu',
    sub: 'user_2abcDEFghiJKLmnoPQRstu',
    org_id: 'org_2abcDEFghiJKLmno',
    org_role: 'org:admin',
    org_slug: 'acme',
    ...extra,
  });
  const signClerk = (c: JWTPayload) => sign(c, clerkKey.privateKey, { alg: 'RS256', kid: clerkKey.kid });

  beforeAll(async () => {
    provider = await createProvider({
      kind: 'clerk',
      issuer: `${peer.origin}/clerk/`,
      authorized_parties: [CLERK_ORIGIN],
      role_claim: 'org_role',
      role_permissions: { 'org:admin': { publish: ['orgs/acme/#'], subscribe: ['orgs/acme/#'] } },
    });
  });

  it('exchanges a session token and maps the org role', async () => {
    const tkn = tokenClaims(await exchange(provider, await signClerk(claims())));
    expect(tkn.sub).toBe('user_2abcDEFghiJKLmnoPQRstu');
    expect(tkn.perm.pub).toContain('orgs/acme/#');
  });

  it('refuses a token requested by another origin (azp)', async () => {
    await expectRefused(exchange(provider, await signClerk(claims({ azp: 'https://evil.example' }))), 'invalid_claims');
  });
});

describe('JWT (generic)', () => {
  it('verifies with a PEM public key and with a shared secret, pinned to the configured algorithms', async () => {
    const key = await newKey('ES256', 'pem-1');
    const pemProvider = await createProvider({ kind: 'jwt', issuer: 'https://issuer.example', audience: 'mqtt', algorithms: ['ES256'], public_key: key.publicPem, user_id_claim: 'uid' });
    const base = { iss: 'https://issuer.example', aud: 'mqtt', iat: nowSeconds(), exp: nowSeconds() + 600, uid: 'device-42' };
    expect(tokenClaims(await exchange(pemProvider, await sign(base, key.privateKey, { alg: 'ES256' }))).sub).toBe('device-42');
    await expectRefused(exchange(pemProvider, await sign({ ...base, uid: 'a/b' }, key.privateKey, { alg: 'ES256' })), 'invalid_user_claim');
    await expectRefused(exchange(pemProvider, await sign({ ...base, uid: undefined }, key.privateKey, { alg: 'ES256' })), 'invalid_user_claim');

    const secret = 'a-shared-secret-of-at-least-thirty-two-chars';
    const hsProvider = await createProvider({ kind: 'jwt', issuer: 'https://issuer.example', audience: 'mqtt', algorithms: ['HS256'], shared_secret: secret });
    const ok = await sign({ ...base, sub: 'svc-1' }, new TextEncoder().encode(secret), { alg: 'HS256' });
    expect(tokenClaims(await exchange(hsProvider, ok)).sub).toBe('svc-1');
    const hs512 = await sign({ ...base, sub: 'svc-1' }, new TextEncoder().encode(secret), { alg: 'HS512' });
    await expectRefused(exchange(hsProvider, hs512), 'unsupported_algorithm');
  });
});

describe('JWKS cache', () => {
  let provider: string;
  const path = '/rotating/jwks';
  let k1: TestKey;
  let k2: TestKey;
  const token = (key: TestKey) =>
    sign({ iss: 'https://rotating.example', aud: 'mqtt', sub: 'u1', iat: nowSeconds(), exp: nowSeconds() + 600 }, key.privateKey, { alg: 'RS256', kid: key.kid });

  beforeAll(async () => {
    [k1, k2] = await Promise.all([newKey('RS256', 'rot-1'), newKey('RS256', 'rot-2')]);
    peer.sets.set(path, [k1.publicJwk]);
    provider = await createProvider({ kind: 'jwt', issuer: 'https://rotating.example', audience: 'mqtt', algorithms: ['RS256'], jwks_uri: `${peer.origin}${path}` });
  });
  afterEach(() => {
    peer.mode = 'ok';
  });

  it('picks up a rotated key at once, and rate-limits refetches for unknown kids', async () => {
    expect((await exchange(provider, await token(k1))).status).toBe(201);
    const fetches = peer.count(path);
    await new Promise((r) => setTimeout(r, 350));
    peer.sets.set(path, [k2.publicJwk, k1.publicJwk]);
    expect((await exchange(provider, await token(k2))).status).toBe(201);
    expect(peer.count(path)).toBe(fetches + 1);
    await new Promise((r) => setTimeout(r, 350));
    const bogus = await newKey('RS256', 'rot-unknown');
    const results = await Promise.all(Array.from({ length: 10 }, async () => (await exchange(provider, await token(bogus))).json().code));
    expect(new Set(results)).toEqual(new Set(['unknown_key']));
    // Ten tokens with an unknown kid: one refetch at most.
    expect(peer.count(path)).toBe(fetches + 2);
  });

  it('keeps serving the last good keys while the IdP is down, and fails closed with 503 with none', async () => {
    peer.mode = 'fail';
    expect((await exchange(provider, await token(k1))).status).toBe(201);
    const fresh = await newKey('RS256', 'down-1');
    const downProvider = await createProvider({ kind: 'jwt', issuer: 'https://rotating.example', audience: 'mqtt', algorithms: ['RS256'], jwks_uri: `${peer.origin}/down/jwks` });
    await expectRefused(exchange(downProvider, await token(fresh)), 'idp_unavailable', 503);
    peer.mode = 'hang';
    const hangProvider = await createProvider({ kind: 'jwt', issuer: 'https://rotating.example', audience: 'mqtt', algorithms: ['RS256'], jwks_uri: `${peer.origin}/hang/jwks` });
    const started = Date.now();
    await expectRefused(exchange(hangProvider, await token(fresh)), 'idp_unavailable', 503);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('OIDC (oidc-provider as a real OpenID Provider)', () => {
  let op: OidcPeer;
  let provider: string;
  let keyA: TestKey;
  let keyB: TestKey;

  beforeAll(async () => {
    [keyA, keyB] = await Promise.all([newKey('RS256', 'op-a'), newKey('RS256', 'op-b')]);
    op = await startOidcProvider([keyA.privateJwk]);
    provider = await createProvider({
      kind: 'oidc',
      issuer: op.issuer,
      audience: 'urn:signet:mqtt',
      role_claim: 'roles',
      role_permissions: { operator: { subscribe: ['plant/+/status'] } },
    });
  });
  afterAll(() => op?.stop());

  it('discovers the issuer, verifies its token and maps its roles', async () => {
    const tkn = tokenClaims(await exchange(provider, await op.token()));
    expect(tkn.sub).toBe('backend');
    expect(tkn.perm.sub).toContain('plant/+/status');
  });

  it('follows a key rotation at the OP at once', async () => {
    const old = await op.token();
    await op.stop();
    await new Promise((r) => setTimeout(r, 350));
    // Same issuer (same port), the new key signs, the old one is still published.
    op = await startOidcProvider([keyB.privateJwk, keyA.privateJwk], op.port);
    const rotated = await op.token();
    expect(JSON.parse(Buffer.from(rotated.split('.')[0], 'base64url').toString()).kid).toBe('op-b');
    expect((await exchange(provider, rotated)).status).toBe(201);
    expect((await exchange(provider, old)).status).toBe(201);
  });

  it('refuses a forged signature and tokens of another audience', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await sign({ iss: op.issuer, aud: 'urn:signet:mqtt', sub: 'x', iat: nowSeconds(), exp: nowSeconds() + 60 }, privateKey, { alg: 'RS256', kid: 'op-b' });
    await expectRefused(exchange(provider, forged), 'invalid_signature');
    const other = await createProvider({ kind: 'oidc', issuer: op.issuer, audience: 'urn:other' });
    await expectRefused(exchange(other, await op.token()), 'invalid_audience');
  });
});

describe('public rate limit (per client address, shared by refresh and the IdP exchange)', () => {
  let limited: NestFastifyApplication;
  const unknownProvider = 'idp_000000000000000000000000';
  beforeAll(async () => {
    limited = await startApp({ SIGNET_PUBLIC_RATE_PER_IP: '1', SIGNET_PUBLIC_BURST_PER_IP: '3' });
  });
  afterAll(() => limited?.close());

  const deviceExchange = (ip: string) =>
    request('POST', '/v1/federation/exchange', { bearer: 'not-a-jwt', body: { provider_id: unknownProvider }, ip, to: limited });
  const deviceRefresh = (ip: string) =>
    request('POST', '/v1/tokens/refresh', { body: { refresh_token: `rt_${randomBytes(32).toString('base64url')}` }, ip, to: limited });

  it('answers 429 rate_limited with Retry-After once an address has used its burst; other addresses are served', async () => {
    const ip = '198.51.100.7';
    await expectRefused(deviceExchange(ip), 'unknown_provider');
    await expectRefused(deviceRefresh(ip), 'invalid_refresh_token');
    await expectRefused(deviceExchange(ip), 'unknown_provider');

    const refused = await deviceRefresh(ip);
    await expectRefused(refused, 'rate_limited', 429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json()).toEqual({
      type: 'https://signet.dev/problems/rate_limited',
      title: 'Too Many Requests',
      status: 429,
      code: 'rate_limited',
      detail: expect.any(String),
      retry_after_seconds: 1,
    });
    await expectRefused(deviceExchange(ip), 'rate_limited', 429);

    await expectRefused(deviceExchange('198.51.100.8'), 'unknown_provider');
    await expectRefused(deviceRefresh('::ffff:198.51.100.9'), 'invalid_refresh_token');
  });

  it('serves the address again once Retry-After has passed', async () => {
    const ip = '198.51.100.20';
    for (let i = 0; i < 3; i++) await expectRefused(deviceRefresh(ip), 'invalid_refresh_token');
    const refused = await deviceRefresh(ip);
    await expectRefused(refused, 'rate_limited', 429);
    await new Promise((resolve) => setTimeout(resolve, Number(refused.headers['retry-after']) * 1000));
    await expectRefused(deviceRefresh(ip), 'invalid_refresh_token');
  });

  it('counts an IPv6 client by its /64, and IPv4-mapped IPv6 as the IPv4 address', async () => {
    for (const ip of ['2001:db8:1:2::a', '2001:db8:1:2::b', '2001:db8:1:2:ffff::1']) await expectRefused(deviceRefresh(ip), 'invalid_refresh_token');
    await expectRefused(deviceRefresh('2001:db8:1:2::c'), 'rate_limited', 429);
    await expectRefused(deviceRefresh('2001:db8:1:3::a'), 'invalid_refresh_token');

    for (let i = 0; i < 3; i++) await expectRefused(deviceRefresh('203.0.113.5'), 'invalid_refresh_token');
    await expectRefused(deviceRefresh('::ffff:203.0.113.5'), 'rate_limited', 429);
  });

  it("does not limit a backend's exchange (id_token in the body, authenticated by its API key)", async () => {
    const ip = '198.51.100.30';
    for (let i = 0; i < 3; i++) await expectRefused(deviceExchange(ip), 'unknown_provider');
    await expectRefused(deviceExchange(ip), 'rate_limited', 429);
    const backend = () =>
      request('POST', '/v1/federation/exchange', { bearer: sk, body: { provider_id: unknownProvider, id_token: 'a.b.c' }, ip, to: limited });
    for (let i = 0; i < 5; i++) await expectRefused(backend(), 'unknown_provider');
  });
});
