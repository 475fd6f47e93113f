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
  // IdP events (/v1/idp-events): sign-outs and user changes.
  /** 401: the event's secret or signature is missing or wrong, or the provider has no events secret. */
  invalidEventSignature: 'invalid_event_signature',
  /** 401: the signed call's timestamp is too far from now (replay window). */
  eventTimestampOutOfRange: 'event_timestamp_out_of_range',
  /** 400: the event body is not one this endpoint understands. */
  invalidEvent: 'invalid_idp_event',
  /** 400: the logout token fails Back-Channel Logout 1.0 validation (the detail says which rule). */
  invalidLogoutToken: 'invalid_logout_token',
  /** 409: an event id (jti, webhook-id) seen before with a different event. */
  eventIdReused: 'idp_event_id_reused',
  /** 400: back-channel logout needs the provider's `audience` (the client id the OP sends logout tokens to). */
  logoutNotConfigured: 'backchannel_logout_not_configured',
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

export const invalidEventSignature = (detail: string): ProblemError => unauthorized(FEDERATION_ERRORS.invalidEventSignature, detail);

export const invalidEvent = (detail: string): ProblemError => badRequest(FEDERATION_ERRORS.invalidEvent, detail);

export const invalidLogoutToken = (detail: string): ProblemError => badRequest(FEDERATION_ERRORS.invalidLogoutToken, detail);

export const eventIdReused = (): ProblemError => new ProblemError(409, FEDERATION_ERRORS.eventIdReused, 'this event id was already used by a different event');
