import type { FederationConfig, SignetConfig } from '@signet/config';

import { FIREBASE_JWKS_URI } from './verification/verifiers';

/** Provided by {@link FederationModule.forRoot}. */
export const FEDERATION_OPTIONS = Symbol('FEDERATION_OPTIONS');

/** The `SIGNET_IDP_*` settings (meanings in FederationConfig), with the Firebase key URL resolved. */
export type FederationOptions = Omit<FederationConfig, 'firebaseJwksUri'> & {
  /** Google's securetoken JWK set; an egress proxy or a test peer may stand in for it. */
  firebaseJwksUri: string;
};

/** The federation's options from the process configuration (validated and defaulted there). */
export function federationOptionsFrom(config: SignetConfig): FederationOptions {
  const { firebaseJwksUri, ...limits } = config.federation;
  return { ...limits, firebaseJwksUri: firebaseJwksUri ?? FIREBASE_JWKS_URI };
}
