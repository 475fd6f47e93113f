// The whole Supabase flow against a running Signet (`npm start`):
//   1. the browser signs in with Supabase and gets an access token,
//   2. it asks the backend for MQTT credentials; the backend exchanges the token,
//   3. it connects over WebSocket and uses its topics.
//
//   SIGNET_API_KEY=sk_… node examples/supabase-backend/demo.mjs
//
// With SUPABASE_URL and SUPABASE_ACCESS_TOKEN (a real user's session.access_token)
// it uses your project; otherwise a local stand-in for Supabase serves a JWKS
// on 127.0.0.1 and signs a token with Supabase's exact claims.
import { createServer } from 'node:http';

import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import mqtt from 'mqtt';

import { startBackend } from './backend.mjs';

const SIGNET_URL = process.env.SIGNET_URL ?? 'http://localhost:8080';
const SIGNET_WS_URL = process.env.SIGNET_WS_URL ?? 'ws://localhost:8083/mqtt';
const API_KEY = process.env.SIGNET_API_KEY;
if (!API_KEY) {
  console.error('set SIGNET_API_KEY to your sk_ key (printed by the first `npm start`)');
  process.exit(1);
}

async function localSupabase() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'local-1', alg: 'ES256', use: 'sig' }] });
  const server = createServer((req, res) =>
    req.url === '/auth/v1/.well-known/jwks.json' ? res.writeHead(200, { 'content-type': 'application/json' }).end(jwks) : res.writeHead(404).end(),
  );
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const projectUrl = `http://127.0.0.1:${server.address().port}`;
  const now = Math.floor(Date.now() / 1000);
  // What supabase.auth.signInWithPassword() gives the browser as session.access_token.
  const accessToken = await new SignJWT({
    aud: 'authenticated',
    exp: now + 3600,
    iat: now,
    iss: `${projectUrl}/auth/v1`,
    sub: '0b7c4a53-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
    email: 'alice@example.com',
    phone: '',
    app_metadata: { provider: 'email', providers: ['email'], roles: ['admin'] },
    user_metadata: {},
    role: 'authenticated',
    aal: 'aal1',
    amr: [{ method: 'password', timestamp: now }],
    session_id: '4c1d2e3f-0000-4000-8000-000000000001',
    is_anonymous: false,
  })
    .setProtectedHeader({ alg: 'ES256', kid: 'local-1', typ: 'JWT' })
    .sign(privateKey);
  return { projectUrl, accessToken, close: () => server.close() };
}

const supabase = process.env.SUPABASE_URL
  ? { projectUrl: process.env.SUPABASE_URL, accessToken: process.env.SUPABASE_ACCESS_TOKEN, close: () => undefined }
  : await localSupabase();

/** fetch, with the one failure a first try meets most ("fetch failed": nothing listens there) said plainly. */
async function call(url, init, what) {
  try {
    return await fetch(url, init);
  } catch (err) {
    const reason = err.cause?.code ?? err.cause?.message ?? err.message;
    console.error(`cannot reach ${what} at ${new URL(url).origin} (${reason})`);
    if (what === 'Signet') console.error('is it running (`npm start`)? If it runs elsewhere, set SIGNET_URL.');
    process.exit(1);
  }
}

// Once, at setup: register the Supabase project with Signet.
const created = await call(`${SIGNET_URL}/v1/idp-providers`, {
  method: 'POST',
  headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
  body: JSON.stringify({
    kind: 'supabase',
    name: 'demo',
    project_url: supabase.projectUrl,
    role_claim: 'app_metadata.roles',
    role_permissions: { admin: { publish: ['broadcast/#'], subscribe: ['broadcast/#'] } },
  }),
}, 'Signet');
const provider = await created.json();
if (created.status !== 201) {
  console.error(`cannot register the provider: ${provider.code}: ${provider.detail}`);
  process.exit(1);
}
console.log(`1. provider ${provider.id} registered for ${supabase.projectUrl}`);

const backend = await startBackend({ port: 0, signetUrl: SIGNET_URL, apiKey: API_KEY, providerId: provider.id, wsUrl: SIGNET_WS_URL });
const backendUrl = `http://127.0.0.1:${backend.address().port}/mqtt-credentials`;

// 2. The browser asks the backend, with its Supabase access token.
const res = await call(backendUrl, { method: 'POST', headers: { authorization: `Bearer ${supabase.accessToken}` } }, 'the backend');
const creds = await res.json();
if (res.status !== 200) {
  console.error(`backend refused: ${creds.error}`);
  process.exit(1);
}
console.log(`2. MQTT credentials for ${creds.username}, valid until ${creds.expires_at}`);

// 3. The client connects over WebSocket.
const userId = creds.username.slice(0, creds.username.lastIndexOf('@'));
const client = mqtt.connect(creds.ws_url, { username: creds.username, password: creds.password, protocolVersion: 5, reconnectPeriod: 0 });
client.on('error', (err) => {
  console.error(`MQTT: ${err.message}`);
  process.exit(1);
});
client.on('connect', async () => {
  console.log(`3. connected to ${creds.ws_url}`);
  await client.subscribeAsync([`users/${userId}/#`, 'broadcast/#']);
  client.on('message', (topic, payload) => {
    console.log(`   ${topic}: ${payload}`);
    if (topic === 'broadcast/news') {
      client.end();
      backend.close();
      supabase.close();
    }
  });
  await client.publishAsync(`users/${userId}/hello`, 'hi from my own topic');
  // Granted by the admin role (app_metadata.roles).
  await client.publishAsync('broadcast/news', 'hi everyone');
});
