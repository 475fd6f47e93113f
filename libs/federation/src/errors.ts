import { ProblemError, serviceUnavailable, unauthorized } from '@signet/http';

/**
 * Stable problem codes of an exchange. Every refusal of an IdP token is a 401
 * with one of these codes (clients switch on the code, never on the detail);
 * an IdP whose keys or metadata cannot be fetched, with nothing cached, is a
 * 503 `idp_unavailable`. Details never echo the token or a secret.
 */
export const EXCHANGE_ERRORS = {
  missingToken: 'missing_idp_token',
  malformed: 'malformed_token',
  unsupportedAlgorithm: 'unsupported_algorithm',
  unknownKey: 'unknown_key',
  invalidSignature: 'invalid_signature',
  expired: 'token_expired',
  notYetValid: 'token_not_yet_valid',
  invalidIssuer: 'invalid_issuer',
  invalidAudience: 'invalid_audience',
  invalidClaims: 'invalid_claims',
  invalidUserClaim: 'invalid_user_claim',
  unknownProvider: 'unknown_provider',
  unavailable: 'idp_unavailable',
} as const;

export type ExchangeErrorCode = (typeof EXCHANGE_ERRORS)[keyof typeof EXCHANGE_ERRORS];

export const refuse = (code: Exclude<ExchangeErrorCode, 'idp_unavailable'>, detail: string): ProblemError => unauthorized(code, detail);

export const idpUnavailable = (detail: string): ProblemError => serviceUnavailable(EXCHANGE_ERRORS.unavailable, detail);
