import { badRequest, conflict, forbidden, notFound, ProblemError, serviceUnavailable, tooManyRequests, unauthorized } from '@signet/http';

/** The problem codes of the API key feature (HTTP `code`), each written here only. */
export const KEY_ERRORS = {
  missingApiKey: 'missing_api_key',
  invalidApiKey: 'invalid_api_key',
  ipNotAllowed: 'ip_not_allowed',
  tooManyAttempts: 'too_many_attempts',
  /** 503: as many key checks (bcrypt) are running as this process allows; shed rather than queued. */
  verificationOverloaded: 'verification_overloaded',
  insufficientScope: 'insufficient_scope',
  privilegeEscalation: 'privilege_escalation',
  invalidName: 'invalid_name',
  invalidScope: 'invalid_scope',
  scopesRequired: 'scopes_required',
  scopesNotAllowed: 'scopes_not_allowed',
  invalidIpAllowlist: 'invalid_ip_allowlist',
  invalidExpiresAt: 'invalid_expires_at',
  invalidGracePeriod: 'invalid_grace_period',
  keyNotFound: 'key_not_found',
  keyNotActive: 'key_not_active',
  keyAlreadyRotated: 'key_already_rotated',
  invalidRange: 'invalid_range',
  rangeTooLarge: 'range_too_large',
} as const;

export type KeyErrorCode = (typeof KEY_ERRORS)[keyof typeof KEY_ERRORS];

export const missingApiKey = (detail: string): ProblemError => unauthorized(KEY_ERRORS.missingApiKey, detail);

export const invalidApiKey = (detail = 'the API key is invalid, expired or revoked'): ProblemError =>
  unauthorized(KEY_ERRORS.invalidApiKey, detail);

export const verificationOverloaded = (retryAfterMs: number): ProblemError =>
  serviceUnavailable(KEY_ERRORS.verificationOverloaded, 'too many API key checks in progress; try again shortly', retryAfterMs);

export const ipNotAllowed = (): ProblemError => forbidden(KEY_ERRORS.ipNotAllowed, 'this API key may not be used from this address');

export const tooManyAttempts = (retryAfterMs: number): ProblemError =>
  tooManyRequests(KEY_ERRORS.tooManyAttempts, 'too many failed API key attempts; try again later', retryAfterMs);

export const insufficientScope = (detail: string): ProblemError => forbidden(KEY_ERRORS.insufficientScope, detail);

export const privilegeEscalation = (detail: string): ProblemError => forbidden(KEY_ERRORS.privilegeEscalation, detail);

export const keyNotFound = (id: string): ProblemError => notFound(KEY_ERRORS.keyNotFound, `no API key ${id.slice(0, 40)} in this org`);

export const keyNotActive = (): ProblemError => conflict(KEY_ERRORS.keyNotActive, 'this key is revoked or expired; create a new one instead');

export const keyAlreadyRotated = (successor: string): ProblemError =>
  conflict(KEY_ERRORS.keyAlreadyRotated, `this key was already rotated to ${successor}`);

/** The 400s of validation: one factory per code keeps the status beside it. */
export const invalidKeyInput = (
  code:
    | typeof KEY_ERRORS.invalidName
    | typeof KEY_ERRORS.invalidScope
    | typeof KEY_ERRORS.scopesRequired
    | typeof KEY_ERRORS.scopesNotAllowed
    | typeof KEY_ERRORS.invalidIpAllowlist
    | typeof KEY_ERRORS.invalidExpiresAt
    | typeof KEY_ERRORS.invalidGracePeriod
    | typeof KEY_ERRORS.invalidRange
    | typeof KEY_ERRORS.rangeTooLarge,
  detail: string,
  extensions?: Record<string, unknown>,
): ProblemError => badRequest(code, detail, extensions);
