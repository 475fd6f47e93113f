import { invalidApiKey, privilegeEscalation } from '@signet/api-keys';
import { badRequest, notFound, ProblemError, tooManyRequests, unauthorized } from '@signet/http';

/**
 * The token feature's problem codes, each written once here. Clients switch on
 * the code, never on the detail; OpenAPI texts and other libraries reference
 * these constants. Type errors in a body are the global `validation_failed`.
 */
export const TOKEN_ERRORS = {
  invalidUserId: 'invalid_user_id',
  invalidClientId: 'invalid_client_id',
  invalidPermission: 'invalid_permission',
  invalidTtl: 'invalid_ttl',
  ttlTooLong: 'ttl_too_long',
  invalidRefreshToken: 'invalid_refresh_token',
  refreshTokenReused: 'refresh_token_reused',
  tokenNotFound: 'token_not_found',
  rateLimited: 'rate_limited',
  invalidAclSubject: 'invalid_acl_subject',
  invalidTopic: 'invalid_topic',
} as const;

export type TokenErrorCode = (typeof TOKEN_ERRORS)[keyof typeof TOKEN_ERRORS];

export const invalidRefreshToken = (): ProblemError =>
  unauthorized(TOKEN_ERRORS.invalidRefreshToken, 'the refresh token is invalid, expired or revoked');

export const refreshTokenReused = (): ProblemError =>
  unauthorized(TOKEN_ERRORS.refreshTokenReused, 'this refresh token was already used; every token of its family has been revoked');

export const tokenNotFound = (): ProblemError => notFound(TOKEN_ERRORS.tokenNotFound, 'no such token in this org');

export const rateLimited = (retryAfterMs: number): ProblemError =>
  tooManyRequests(TOKEN_ERRORS.rateLimited, 'too many requests from this address; retry after the time given in Retry-After', retryAfterMs);

/** The caller's key names an org that no longer exists (deleted after the key's verdict was cached). */
export const orgOfKeyGone = (): ProblemError => invalidApiKey();

/** A restricted key asked for MQTT rights it does not hold. */
export const mqttPrivilegeEscalation = (missing: readonly string[]): ProblemError =>
  privilegeEscalation(`this API key cannot grant what it does not hold: ${missing.join(', ')}`);

export const invalidAclSubject = (): ProblemError =>
  badRequest(TOKEN_ERRORS.invalidAclSubject, 'name exactly one of user_id and token');

export const invalidTopic = (detail: string): ProblemError => badRequest(TOKEN_ERRORS.invalidTopic, detail);
