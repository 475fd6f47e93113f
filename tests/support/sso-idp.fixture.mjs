// A real OpenID Provider (oidc-provider, ESM-only) as an org's SSO provider, run as a child process so
// jest never loads it. People sign in at its development login form (any login, any password): the
// login is the subject and the e-mail, verified unless it starts with "unverified".
//
// env: SSO_REDIRECT_URI (Signet's /sign-in/sso/callback), SSO_CLIENT_SECRET
// stdout: one line {"port":N,"issuer":"http://127.0.0.1:N"} once listening.
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'signet',
        client_secret: process.env.SSO_CLIENT_SECRET,
        redirect_uris: [process.env.SSO_REDIRECT_URI],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    cookies: { keys: ['sso-idp-cookie-key-0123456789'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    // The e-mail in the ID token itself, as Google and most providers do.
    conformIdTokenClaims: false,
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id, email: id, email_verified: !id.startsWith('unverified') }) }),
    features: { devInteractions: { enabled: true } },
  });
  // The development interactions warn on stderr at each start; nothing else is logged.
  provider.on('server_error', (_ctx, err) => process.stderr.write(`idp server_error: ${err.message}\n`));
  server.on('request', provider.callback());
  process.stdout.write(JSON.stringify({ port, issuer }) + '\n');
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
