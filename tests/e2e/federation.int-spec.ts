import { randomBytes } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';

import { exportJWK, generateKeyPair, JWTPayload, KeyLike, SignJWT } from 'jose';
import type { MqttClient } from 'mqtt';

import type { SignetProcess } from '@signet/runtime';

import { connect, serverClosed, subscribeCodes } from '../support/mqtt';
import { Backend, realBackend, startSignet } from '../support/signet';

/*
 * IdP federation end to end, in the all-in-one on PostgreSQL + Redis: a user
 * signed in with (an emulated) Supabase is exchanged for MQTT credentials,
 * connects over WebSocket, and the edge allows or denies SUBSCRIBEs by the
 * permissions their role maps to; revoking the exchanged token closes the
 * session.
 */

let backend: Backend;
let signet: SignetProcess;
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

  backend = await realBackend('fed_e2e');
  signet = await startSignet(backend);
  sk = signet.service!.bootstrap!.apiKey;
  api = `http://127.0.0.1:${signet.ports.http}`;
  wsUrl = `ws://127.0.0.1:${signet.ports.ws}/mqtt`;
});

afterAll(async () => {
  for (const c of clients) c.end(true);
  await signet?.close();
  await backend?.cleanup();
  await new Promise((resolve) => idp?.close(resolve));
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

it('the example backend (examples/supabase-backend) runs its whole flow against the all-in-one', async () => {
  const { execFile } = await import('node:child_process');
  const { join } = await import('node:path');
  const output = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      [join(__dirname, '..', '..', 'examples', 'supabase-backend', 'demo.mjs')],
      { env: { PATH: process.env['PATH'], SIGNET_API_KEY: sk, SIGNET_URL: api, SIGNET_WS_URL: wsUrl }, timeout: 30000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stdout}${stderr}`)) : resolve(stdout)),
    );
  });
  expect(output).toContain('3. connected to');
  expect(output).toContain('broadcast/news: hi everyone');
});
