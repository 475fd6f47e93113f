import { loadConfig } from './config';

describe('IdP federation settings (SIGNET_IDP_*)', () => {
  it('has the production defaults', () => {
    expect(loadConfig({}).federation).toEqual({
      fetchTimeoutMs: 3000,
      maxFetchBytes: 512 * 1024,
      jwksMaxAgeMs: 600_000,
      refetchCooldownMs: 5000,
      discoveryMaxAgeMs: 3_600_000,
      clockToleranceSeconds: 60,
      firebaseJwksUri: undefined,
    });
  });

  it('reads each variable', () => {
    const config = loadConfig({
      SIGNET_IDP_FETCH_TIMEOUT_MS: '500',
      SIGNET_IDP_MAX_FETCH_BYTES: '65536',
      SIGNET_IDP_JWKS_MAX_AGE_MS: '60000',
      SIGNET_IDP_REFETCH_COOLDOWN_MS: '300',
      SIGNET_IDP_DISCOVERY_MAX_AGE_MS: '120000',
      SIGNET_IDP_CLOCK_TOLERANCE_SECONDS: '0',
      SIGNET_IDP_FIREBASE_JWKS_URI: 'http://127.0.0.1:9000/jwks',
    });
    expect(config.federation).toEqual({
      fetchTimeoutMs: 500,
      maxFetchBytes: 65536,
      jwksMaxAgeMs: 60000,
      refetchCooldownMs: 300,
      discoveryMaxAgeMs: 120000,
      clockToleranceSeconds: 0,
      firebaseJwksUri: 'http://127.0.0.1:9000/jwks',
    });
  });

  it.each([
    ['SIGNET_IDP_FETCH_TIMEOUT_MS', '0'],
    ['SIGNET_IDP_MAX_FETCH_BYTES', 'lots'],
    ['SIGNET_IDP_REFETCH_COOLDOWN_MS', '-1'],
    ['SIGNET_IDP_CLOCK_TOLERANCE_SECONDS', '301'],
    ['SIGNET_IDP_FIREBASE_JWKS_URI', 'ftp://example.com/jwks'],
  ])('refuses %s=%s, naming the variable', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(new RegExp(`^${variable}: `));
  });
});
