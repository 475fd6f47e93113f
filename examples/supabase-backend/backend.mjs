// A customer backend, in plain Node: the browser sends its Supabase access
// token, the backend exchanges it at Signet with its own sk_ key (which never
// leaves the backend) and hands back MQTT credentials.
//
//   SIGNET_URL=http://localhost:8080 SIGNET_API_KEY=sk_… SIGNET_IDP_PROVIDER_ID=idp_… node backend.mjs
//
// POST /mqtt-credentials   Authorization: Bearer <supabase access token>
//   → 200 { username, password, expires_at, ws_url }
import { createServer } from 'node:http';

const SIGNET_URL = process.env.SIGNET_URL ?? 'http://localhost:8080';
const SIGNET_WS_URL = process.env.SIGNET_WS_URL ?? 'ws://localhost:8083/mqtt';
const API_KEY = process.env.SIGNET_API_KEY;
const PROVIDER_ID = process.env.SIGNET_IDP_PROVIDER_ID;

/** Exchanges the user's IdP token for MQTT credentials; throws with Signet's problem code on refusal. */
export async function exchange(idToken, { signetUrl = SIGNET_URL, apiKey = API_KEY, providerId = PROVIDER_ID } = {}) {
  let res;
  try {
    res = await fetch(`${signetUrl}/v1/federation/exchange`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ provider_id: providerId, id_token: idToken }),
    });
  } catch (err) {
    // Signet is down or SIGNET_URL is wrong: a 503 the browser can retry, not a 401 that blames its token.
    throw Object.assign(new Error(`cannot reach Signet at ${signetUrl}: ${err.cause?.code ?? err.message}`), { status: 503, code: 'signet_unreachable' });
  }
  const body = await res.json();
  if (res.status !== 201) throw Object.assign(new Error(`exchange refused: ${body.code}`), { status: res.status, code: body.code });
  return body;
}

export function startBackend({ port = Number(process.env.PORT ?? 3001), ...signet } = {}) {
  const server = createServer(async (req, res) => {
    if (req.method !== 'POST' || req.url !== '/mqtt-credentials') return res.writeHead(404).end();
    const match = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '');
    if (!match) return res.writeHead(401).end();
    try {
      const creds = await exchange(match[1], signet);
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({ ...creds.mqtt_credentials, expires_at: creds.expires_at, ws_url: signet.wsUrl ?? SIGNET_WS_URL }),
      );
    } catch (err) {
      // Pass the status and code on; never the token.
      res.writeHead(err.status === 503 ? 503 : 401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: err.code ?? 'exchange_failed' }));
    }
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (!API_KEY || !PROVIDER_ID) {
    console.error('set SIGNET_API_KEY and SIGNET_IDP_PROVIDER_ID');
    process.exit(1);
  }
  const server = await startBackend();
  console.log(`backend on http://127.0.0.1:${server.address().port}/mqtt-credentials`);
}
