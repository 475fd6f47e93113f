// A real OpenID Provider (oidc-provider, ESM-only) for the federation tests,
// run as a child process so jest never loads it. It issues JWT access tokens
// by the client-credentials grant (no browser needed), signed with the keys it
// publishes at its discovered jwks_uri.
//
// With OIDC_BACKCHANNEL_LOGOUT_URI it also has a relying party `rp` registered
// for Back-Channel Logout, and POST /test/backchannel-logout {"sub","sid"} makes
// the provider send `rp` a logout token exactly as its end_session does.
//
// env: OIDC_PORT (0 = any), OIDC_KEYS (JSON list of private JWKs; the first signs),
//      OIDC_BACKCHANNEL_LOGOUT_URI (optional)
// stdout: one line {"port":N,"issuer":"http://127.0.0.1:N"} once listening.
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const keys = JSON.parse(process.env.OIDC_KEYS ?? '[]');
const backchannelLogoutUri = process.env.OIDC_BACKCHANNEL_LOGOUT_URI;
const relyingParty = backchannelLogoutUri
  ? [
      {
        client_id: 'rp',
        client_secret: 'rp-secret-that-is-long-enough-0123456789abcdef',
        redirect_uris: ['http://127.0.0.1/callback'],
        backchannel_logout_uri: backchannelLogoutUri,
        backchannel_logout_session_required: true,
      },
    ]
  : [];
const server = createServer();
server.listen(Number(process.env.OIDC_PORT ?? '0'), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'backend',
        client_secret: 'backend-secret-that-is-long-enough-0123456789',
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
      },
      ...relyingParty,
    ],
    jwks: { keys },
    cookies: { keys: ['test-cookie-key-0123456789'] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      backchannelLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'urn:signet:mqtt',
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'mqtt',
          audience: 'urn:signet:mqtt',
          accessTokenFormat: 'jwt',
          accessTokenTTL: 300,
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    // A role claim, so the mapping can be exercised with a real OP's token.
    extraTokenClaims: () => ({ roles: ['operator'] }),
  });
  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (req.method === 'POST' && req.url === '/test/backchannel-logout') return backchannelLogout(provider, req, res);
    return callback(req, res);
  });
  process.stdout.write(JSON.stringify({ port, issuer }) + '\n');
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));

async function backchannelLogout(provider, req, res) {
  let body = '';
  for await (const chunk of req) body += chunk;
  try {
    const { sub, sid } = JSON.parse(body);
    const client = await provider.Client.find('rp');
    await client.backchannelLogout(sub, sid);
    res.writeHead(204).end();
  } catch (err) {
    res.writeHead(502, { 'content-type': 'text/plain' }).end(String(err?.message ?? err));
  }
}
