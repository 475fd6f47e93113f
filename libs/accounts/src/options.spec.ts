import { ConfigError, loadConfig } from '@signet/config';

import { accountsOptionsFrom } from './options';

describe('accountsOptionsFrom', () => {
  it('defaults: one-hour access tokens, 30-day refresh tokens, the issuer on localhost', () => {
    expect(accountsOptionsFrom(loadConfig({ SIGNET_HTTP_PORT: '9000' }))).toEqual({
      issuer: 'http://localhost:9000/oidc',
      ssoRedirectUri: 'http://localhost:9000/sign-in/sso/callback',
      accessTokenTtlSeconds: 3600,
      refreshTokenTtlSeconds: 30 * 86400,
      pruneIntervalMs: 600_000,
    });
  });

  it('takes SIGNET_PUBLIC_URL as the issuer base, without a trailing slash', () => {
    expect(accountsOptionsFrom(loadConfig({ SIGNET_PUBLIC_URL: 'https://signet.example.com/' }))).toMatchObject({
      issuer: 'https://signet.example.com/oidc',
      ssoRedirectUri: 'https://signet.example.com/sign-in/sso/callback',
    });
  });

  it('refuses access tokens longer than an hour, naming the variable', () => {
    expect(() => loadConfig({ SIGNET_SESSION_TTL_S: '7200' })).toThrow(ConfigError);
    expect(() => loadConfig({ SIGNET_SESSION_TTL_S: '7200' })).toThrow(/SIGNET_SESSION_TTL_S/);
    expect(() => loadConfig({ SIGNET_PUBLIC_URL: 'ftp://x' })).toThrow(/SIGNET_PUBLIC_URL/);
  });
});
