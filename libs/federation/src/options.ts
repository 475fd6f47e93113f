import { FIREBASE_JWKS_URI } from './verification/verifiers';

/** Optional Nest provider for FEDERATION_OPTIONS; every member has a production default. */
export const FEDERATION_OPTIONS = Symbol('FEDERATION_OPTIONS');

export interface FederationOptions {
  /** Google's securetoken JWK set; tests point it at a local peer. */
  firebaseJwksUri?: string;
  /** Per request to an IdP (JWKS, discovery). Default 3000 ms. */
  fetchTimeoutMs?: number;
  /** Largest JWKS or discovery document accepted. Default 512 KiB. */
  maxFetchBytes?: number;
  /** Keys are refetched when older than this. Default 10 min. */
  jwksMaxAgeMs?: number;
  /** At most one refetch per IdP per this period (an unknown kid triggers one). Default 5 s. */
  refetchCooldownMs?: number;
  /** Discovery documents are refetched when older than this. Default 1 h. */
  discoveryMaxAgeMs?: number;
  /** Clock skew tolerated on exp, nbf and iat. Default 60 s, at most 300 s. */
  clockToleranceSeconds?: number;
}

export type ResolvedFederationOptions = Required<FederationOptions>;

export function resolveFederationOptions(options: FederationOptions = {}): ResolvedFederationOptions {
  return {
    firebaseJwksUri: options.firebaseJwksUri ?? FIREBASE_JWKS_URI,
    fetchTimeoutMs: options.fetchTimeoutMs ?? 3000,
    maxFetchBytes: options.maxFetchBytes ?? 512 * 1024,
    jwksMaxAgeMs: options.jwksMaxAgeMs ?? 10 * 60_000,
    refetchCooldownMs: options.refetchCooldownMs ?? 5000,
    discoveryMaxAgeMs: options.discoveryMaxAgeMs ?? 60 * 60_000,
    // Bounded: a large tolerance would quietly extend every token's life.
    clockToleranceSeconds: Math.min(Math.max(options.clockToleranceSeconds ?? 60, 0), 300),
  };
}
