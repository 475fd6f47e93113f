import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { exportJWK, generateKeyPair, JWTPayload, KeyLike, SignJWT } from 'jose';
import type { MqttClient } from 'mqtt';

import { ApiKeysModule, BootstrapService } from '@signet/api-keys';
import { loadConfig } from '@signet/config';
import { FederationModule } from '@signet/federation';
import { createHttpApp, DATA_SOURCE, REVOCATION_BUS, SECRET_BOX, SIGNET_CONFIG } from '@signet/http';
import { PublicKeyCache, TokenAuthenticator } from '@signet/mqtt-auth';
import { MqttEdge } from '@signet/mqtt-edge';
import { createLogger, SignetMetrics } from '@signet/observability';
import { OpenedDatabase, openDatabase, SecretBox } from '@signet/persistence';
import { DenyList, InMemoryRevocationBus } from '@signet/revocation';
import { createTestDatabase, TestDatabase } from '@signet/testing';
import { SigningKeysService, TokensModule } from '@signet/tokens';

import { connect, serverClosed, subscribeCodes } from '../support/mqtt';

jest.setTimeout(60_000);

/*
 * IdP federation end to end: a user signed in with (an emulated) Supabase is
 * exchanged for MQTT credentials, connects over WebSocket, and the edge allows
 * or denies SUBSCRIBEs by the permissions their role maps to; revoking the
 * exchanged token closes the session. The all-in-one does not compose
 * FederationModule yet, so this spec composes the same pieces it does: the
 * Nest app (API keys, tokens, federation) and an MqttEdge checking tkn_
 * tokens against the token service's keys, fed by the revocation bus.
 */

let pg: TestDatabase;
let dataDir: string;
let db: OpenedDatabase;
let app: NestFastifyApplication;
let edge: MqttEdge;
let idp: Server;
let api: string;
let wsUrl: string;
let sk: string;
let supabaseKey: KeyLike;
let projectUrl: string;
const clients: MqttClient[] = [];

beforeAll(async () => {
  // Supabase stand-in: the project's JWKS with one ES256 key.
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  supabaseKey = privateKey;
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'sb-1', alg: 'ES256', use: 'sig' }] });
  idp = createServer((req, res) => {
    if (req.url === '/auth/v1/.well-known/jwks.json') res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
  projectUrl = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;

  pg = await createTestDatabase('signet_fed_e2e');
  dataDir = await mkdtemp(join(tmpdir(), 'signet-fed-e2e-'));
  const masterKey = randomBytes(32).toString('base64');
  const config = loadConfig({ SIGNET_DATA_DIR: dataDir, SIGNET_MASTER_KEY: masterKey, DATABASE_URL: pg.url });
  const logger = createLogger({ name: 'test', level: 'silent' });
  db = await openDatabase(config, logger);
  const bus = new InMemoryRevocationBus();
  await bus.start();
  app = await createHttpApp({
    title: 'federation e2e',
    logger,
    metrics: new SignetMetrics({ defaults: false }),
    providers: [
      { provide: SIGNET_CONFIG, useValue: config },
      { provide: DATA_SOURCE, useValue: db.dataSource },
      { provide: REVOCATION_BUS, useValue: bus },
      { provide: SECRET_BOX, useValue: new SecretBox(Buffer.from(masterKey, 'base64')) },
    ],
    imports: [ApiKeysModule, TokensModule, FederationModule],
  });
  await app.init();
  const boot = await app.get(BootstrapService).ensureBootstrap();
  if (!boot) throw new Error('no bootstrap key');
  sk = boot.apiKey;
  await app.listen(0, '127.0.0.1');
  api = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;

  const signingKeys = app.get(SigningKeysService);
  const keys = new PublicKeyCache(() => signingKeys.publicJwks());
  await keys.refresh();
  const denyList = new DenyList();
  edge = new MqttEdge({ authenticator: new TokenAuthenticator({ keys, revoked: denyList }) });
  bus.subscribe((event) => {
    denyList.add(event);
    edge.revoke(event.credentialIds);
  });
  const ws = await edge.listenWebSocket(0, '127.0.0.1', '/mqtt');
  wsUrl = `ws://127.0.0.1:${ws.port}/mqtt`;
});

afterAll(async () => {
  for (const c of clients) c.end(true);
  await edge?.close();
  await app?.close();
  await db?.close();
  await pg?.drop();
  await new Promise((resolve) => idp?.close(resolve));
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const supabaseToken = (sub: string, roles: string[]): Promise<string> => {
  const now = Math.floor(Date.now() / 1000);
  const claims: JWTPayload = {
    aud: 'authenticated',
    exp: now + 3600,
    iat: now,
    iss: `${projectUrl}/auth/v1`,
    sub,
    email: `${sub}@example.com`,
    role: 'authenticated',
    app_metadata: { provider: 'email', providers: ['email'], roles },
    user_metadata: {},
    aal: 'aal1',
    session_id: randomBytes(8).toString('hex'),
    is_anonymous: false,
  };
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'sb-1', typ: 'JWT' }).sign(supabaseKey);
};

async function post(path: string, bearer: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${api}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

interface Exchanged {
  token_id: string;
  mqtt_credentials: { username: string; password: string };
}

it('exchange → CONNECT → SUBSCRIBE allowed or denied by role → revoke → disconnected', async () => {
  const created = await post('/v1/idp-providers', sk, {
    kind: 'supabase',
    project_url: projectUrl,
    role_claim: 'app_metadata.roles',
    role_permissions: { admin: { subscribe: ['alerts/#'] } },
  });
  expect(created.status).toBe(201);
  const providerId = created.json.id as string;

  const exchangeFor = async (sub: string, roles: string[]): Promise<Exchanged> => {
    const res = await post('/v1/federation/exchange', await supabaseToken(sub, roles), { provider_id: providerId });
    expect(res.status).toBe(201);
    return res.json as unknown as Exchanged;
  };
  const admin = await exchangeFor('admin-user', ['admin']);
  const viewer = await exchangeFor('viewer-user', ['viewer']);

  const adminClient = await connect(wsUrl, { ...admin.mqtt_credentials, protocolVersion: 5 });
  const viewerClient = await connect(wsUrl, { ...viewer.mqtt_credentials, protocolVersion: 5 });
  clients.push(adminClient, viewerClient);

  // The role grants alerts/#; everyone keeps users/{user_id}/#.
  expect(await subscribeCodes(adminClient, 'alerts/fire')).toEqual([0]);
  expect(await subscribeCodes(viewerClient, 'alerts/fire')).toEqual([0x87]);
  expect(await subscribeCodes(viewerClient, 'users/viewer-user/inbox')).toEqual([0]);
  expect(await subscribeCodes(viewerClient, 'users/admin-user/inbox')).toEqual([0x87]);

  const closed = serverClosed(adminClient);
  const revoked = await fetch(`${api}/v1/tokens/${admin.token_id}`, { method: 'DELETE', headers: { authorization: `Bearer ${sk}` } });
  expect(revoked.status).toBe(204);
  expect(await closed).toEqual({ reasonCode: 0x98 });
  // The viewer's session is untouched.
  expect(viewerClient.connected).toBe(true);
});
