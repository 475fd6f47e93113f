import { forwardedPath, parseCookies, sameOrigin, serializeCookie, tokensEqual } from './browser-policy';

describe('the dashboard browser policy', () => {
  it('forwards /v1 paths only, with no dot segment or encoded path', () => {
    expect(forwardedPath('/v1/keys')).toBe('/v1/keys');
    expect(forwardedPath('/v1/keys/key_1/usage?interval=hour&from=2026-01-01T00%3A00%3A00Z')).toBe('/v1/keys/key_1/usage?interval=hour&from=2026-01-01T00%3A00%3A00Z');
    for (const bad of ['/oidc/token', '/v1/../oidc/token', '/v1/./keys', '/v1//keys', '/v1/%2e%2e/oidc', '/v10/keys', '/v1\\..\\oidc', 'v1/keys', '/V1/keys']) {
      expect([bad, forwardedPath(bad)]).toEqual([bad, null]);
    }
  });

  it('accepts a write from an allowed Origin, or same-origin fetch metadata without one', () => {
    const allowed = ['http://localhost:8080'];
    expect(sameOrigin({ origin: 'http://localhost:8080' }, allowed)).toBe(true);
    expect(sameOrigin({ origin: 'http://localhost:8080.evil.example' }, allowed)).toBe(false);
    expect(sameOrigin({ origin: 'null' }, allowed)).toBe(false);
    // A foreign Origin is refused whatever the fetch metadata claims.
    expect(sameOrigin({ origin: 'http://evil.example', secFetchSite: 'same-origin' }, allowed)).toBe(false);
    expect(sameOrigin({ secFetchSite: 'same-origin' }, allowed)).toBe(true);
    expect(sameOrigin({ secFetchSite: 'cross-site' }, allowed)).toBe(false);
    expect(sameOrigin({}, allowed)).toBe(false);
  });

  it('writes httpOnly SameSite cookies scoped to /dashboard, Secure over https', () => {
    expect(serializeCookie('a', 'b', { maxAgeSeconds: 60, secure: false, sameSite: 'Lax' })).toBe('a=b; Path=/dashboard; Max-Age=60; HttpOnly; SameSite=Lax');
    expect(serializeCookie('a', '', { maxAgeSeconds: 0, secure: true, sameSite: 'Strict' })).toBe('a=; Path=/dashboard; Max-Age=0; HttpOnly; SameSite=Strict; Secure');
  });

  it('reads cookies, the first of a name winning', () => {
    const cookies = parseCookies('x=1; signet_dashboard=abc; signet_dashboard=def; junk');
    expect(cookies.get('signet_dashboard')).toBe('abc');
    expect(cookies.get('x')).toBe('1');
    expect(parseCookies(undefined).size).toBe(0);
  });

  it('compares CSRF tokens whole', () => {
    expect(tokensEqual('abc', 'abc')).toBe(true);
    expect(tokensEqual('abd', 'abc')).toBe(false);
    expect(tokensEqual('ab', 'abc')).toBe(false);
    expect(tokensEqual(undefined, 'abc')).toBe(false);
  });
});
