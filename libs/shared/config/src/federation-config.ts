import { Env, readInt, readUrl } from './env';

/**
 * IdP federation (`SIGNET_IDP_*`): how Signet talks to identity providers
 * when it verifies their tokens. Kept in its own block so unrelated config
 * additions merge cleanly.
 */
export interface FederationConfig {
  /** Per request to an IdP (JWKS, discovery). */
  fetchTimeoutMs: number;
  /** Largest JWKS or discovery document accepted. */
  maxFetchBytes: number;
  /** Keys are refetched when older than this. */
  jwksMaxAgeMs: number;
  /** At most one refetch per IdP per this period (an unknown kid triggers one). */
  refetchCooldownMs: number;
  /** Discovery documents are refetched when older than this. */
  discoveryMaxAgeMs: number;
  /** Clock skew tolerated on exp, nbf and iat; bounded, since a large one would quietly extend every token's life. */
  clockToleranceSeconds: number;
  /** Google's securetoken JWK set for Firebase; absent → Google's own URL. Set only for an egress proxy or a test peer. */
  firebaseJwksUri?: string;
}

export function loadFederationConfig(env: Env): FederationConfig {
  return {
    fetchTimeoutMs: readInt(env, 'SIGNET_IDP_FETCH_TIMEOUT_MS', 3000, 100, 60_000),
    maxFetchBytes: readInt(env, 'SIGNET_IDP_MAX_FETCH_BYTES', 512 * 1024, 1024, 16 * 1024 * 1024),
    jwksMaxAgeMs: readInt(env, 'SIGNET_IDP_JWKS_MAX_AGE_MS', 10 * 60_000, 1000, 86_400_000),
    refetchCooldownMs: readInt(env, 'SIGNET_IDP_REFETCH_COOLDOWN_MS', 5000, 100, 3_600_000),
    discoveryMaxAgeMs: readInt(env, 'SIGNET_IDP_DISCOVERY_MAX_AGE_MS', 60 * 60_000, 1000, 7 * 86_400_000),
    clockToleranceSeconds: readInt(env, 'SIGNET_IDP_CLOCK_TOLERANCE_SECONDS', 60, 0, 300),
    firebaseJwksUri: readUrl(env, 'SIGNET_IDP_FIREBASE_JWKS_URI', ['https:', 'http:']),
  };
}
