import { badRequest, notFound, ProblemError, serviceUnavailable, unauthorized } from '@signet/http';

/**
 * Every problem code of IdP federation, each listed once. Clients switch on
 * the code, never on the detail; details never echo a token or a secret.
 */
export const FEDERATION_ERRORS = {
  // Refusals of an IdP token: 401.
  missingIdpToken: 'missing_idp_token',
  malformedToken: 'malformed_token',
  unsupportedAlgorithm: 'unsupported_algorithm',
  unknownKey: 'unknown_key',
  invalidSignature: 'invalid_signature',
  tokenExpired: 'token_expired',
  tokenNotYetValid: 'token_not_yet_valid',
  invalidIssuer: 'invalid_issuer',
  invalidAudience: 'invalid_audience',
  invalidClaims: 'invalid_claims',
  invalidUserClaim: 'invalid_user_claim',
  unknownProvider: 'unknown_provider',
  /** 503: the IdP's keys or metadata cannot be fetched and nothing is cached. */
  idpUnavailable: 'idp_unavailable',
  /** 400: an API key sent where the IdP token belongs, without id_token in the body. */
  missingIdToken: 'missing_id_token',
  /** 400: a provider's settings do not fit its kind (the field is named). */
  invalidProviderSettings: 'invalid_provider_settings',
  /** 404: no such provider in the caller's org. */
  providerNotFound: 'idp_provider_not_found',
} as const;

export type FederationErrorCode = (typeof FEDERATION_ERRORS)[keyof typeof FEDERATION_ERRORS];

/** The codes of a refused IdP token (401), in the order the documentation lists them. */
export const EXCHANGE_REFUSALS = [
  FEDERATION_ERRORS.missingIdpToken,
  FEDERATION_ERRORS.malformedToken,
  FEDERATION_ERRORS.unsupportedAlgorithm,
  FEDERATION_ERRORS.unknownKey,
  FEDERATION_ERRORS.invalidSignature,
  FEDERATION_ERRORS.tokenExpired,
  FEDERATION_ERRORS.tokenNotYetValid,
  FEDERATION_ERRORS.invalidIssuer,
  FEDERATION_ERRORS.invalidAudience,
  FEDERATION_ERRORS.invalidClaims,
  FEDERATION_ERRORS.invalidUserClaim,
  FEDERATION_ERRORS.unknownProvider,
] as const;

export type ExchangeRefusal = (typeof EXCHANGE_REFUSALS)[number];

export const refuse = (code: ExchangeRefusal, detail: string): ProblemError => unauthorized(code, detail);

export const idpUnavailable = (detail: string): ProblemError => serviceUnavailable(FEDERATION_ERRORS.idpUnavailable, detail);

/** Missing, disabled and foreign providers answer alike: provider ids are not secret, but their state is nobody else's business. */
export const unknownProvider = (): ProblemError => refuse(FEDERATION_ERRORS.unknownProvider, 'no enabled identity provider with this id');

export const missingIdToken = (): ProblemError =>
  badRequest(FEDERATION_ERRORS.missingIdToken, 'with an API key, pass the IdP token as id_token in the body');

export const invalidProviderSettings = (field: string, detail: string): ProblemError =>
  badRequest(FEDERATION_ERRORS.invalidProviderSettings, `${field} ${detail}`, { field });

/** Another org's provider is as unknown as a missing one. */
export const providerNotFound = (id: string): ProblemError => notFound(FEDERATION_ERRORS.providerNotFound, `no identity provider ${id} in this org`);
