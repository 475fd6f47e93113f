// A real OpenID Provider (oidc-provider, ESM-only) for the federation tests,
// run as a child process so jest never loads it. It issues JWT access tokens
// by the client-credentials grant (no browser needed), signed with the keys it
// publishes at its discovered jwks_uri.
//
// env: OIDC_PORT (0 = any), OIDC_KEYS (JSON list of private JWKs; the first signs)
// stdout: one line {"port":N,"issuer":"http://127.0.0.1:N"} once listening.
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const keys = JSON.parse(process.env.OIDC_KEYS ?? '[]');
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
    ],
    jwks: { keys },
    cookies: { keys: ['test-cookie-key-0123456789'] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
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
  server.on('request', provider.callback());
  process.stdout.write(JSON.stringify({ port, issuer }) + '\n');
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
