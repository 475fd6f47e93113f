import type { SignetConfig } from '@signet/config';

import { FIREBASE_JWKS_URI } from './verification/verifiers';

/** Provided by {@link FederationModule.forRoot}. */
export const FEDERATION_OPTIONS = Symbol('FEDERATION_OPTIONS');

export interface FederationOptions {
  /** Google's securetoken JWK set; an egress proxy or a test peer may stand in for it. */
  firebaseJwksUri: string;
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
  /** Clock skew tolerated on exp, nbf and iat. */
  clockToleranceSeconds: number;
}

/** The federation's options from the process configuration (`SIGNET_IDP_*`, validated and defaulted there). */
export function federationOptionsFrom(config: SignetConfig): FederationOptions {
  const { firebaseJwksUri, ...limits } = config.federation;
  return { ...limits, firebaseJwksUri: firebaseJwksUri ?? FIREBASE_JWKS_URI };
}
