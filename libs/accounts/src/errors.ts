import { badRequest, conflict, forbidden, notFound, ProblemError, tooManyRequests, unauthorized } from '@signet/http';

/** The accounts feature's problem codes, each written once here. */
export const ACCOUNT_ERRORS = {
  invalidSignupCode: 'invalid_signup_code',
  invalidUsername: 'invalid_username',
  weakPassword: 'weak_password',
  usernameTaken: 'username_taken',
  invalidCredentials: 'invalid_credentials',
  sessionRequired: 'session_required',
  invalidRole: 'invalid_role',
  roleEscalation: 'role_escalation',
  totpAlreadyEnabled: 'totp_already_enabled',
  totpNotEnrolled: 'totp_not_enrolled',
  invalidTotpCode: 'invalid_totp_code',
  totpThrottled: 'totp_throttled',
  invalidPassword: 'invalid_password',
  ssoNotConfigured: 'sso_not_configured',
  invalidSsoSettings: 'invalid_sso_settings',
  ssoDiscoveryFailed: 'sso_discovery_failed',
  ssoProviderError: 'sso_provider_error',
  ssoEmailNotVerified: 'sso_email_not_verified',
  ssoDomainNotAllowed: 'sso_domain_not_allowed',
  ssoNoAccount: 'sso_no_account',
  ssoUsernameTaken: 'sso_username_taken',
} as const;

export type AccountErrorCode = (typeof ACCOUNT_ERRORS)[keyof typeof ACCOUNT_ERRORS];

export const invalidSignupCode = (): ProblemError =>
  unauthorized(ACCOUNT_ERRORS.invalidSignupCode, 'the sign-up code is unknown or was already used');

export const invalidUsername = (): ProblemError =>
  badRequest(ACCOUNT_ERRORS.invalidUsername, 'a username is 2 to 64 characters: letters, digits and . _ @ -');

export const weakPassword = (): ProblemError =>
  badRequest(ACCOUNT_ERRORS.weakPassword, 'a password is at least 12 characters (at most 256)');

export const usernameTaken = (): ProblemError => conflict(ACCOUNT_ERRORS.usernameTaken, 'this username is taken');

export const sessionRequired = (): ProblemError =>
  unauthorized(ACCOUNT_ERRORS.sessionRequired, 'this route is for signed-in people: sign in with `signet login`');

export const invalidRole = (): ProblemError => badRequest(ACCOUNT_ERRORS.invalidRole, 'role must be owner, admin or viewer');

export const roleEscalation = (detail: string): ProblemError => forbidden(ACCOUNT_ERRORS.roleEscalation, detail);

export const totpAlreadyEnabled = (): ProblemError =>
  conflict(ACCOUNT_ERRORS.totpAlreadyEnabled, 'two-factor sign-in is already on; disable it first to enrol a new secret');

export const totpNotEnrolled = (detail = 'two-factor sign-in is not on for this account'): ProblemError => notFound(ACCOUNT_ERRORS.totpNotEnrolled, detail);

// 400, not 401: a wrong code is bad input of a signed-in caller, whose session stays valid.
export const invalidTotpCode = (): ProblemError => badRequest(ACCOUNT_ERRORS.invalidTotpCode, 'the code is wrong, expired or was already used');

export const totpThrottled = (retryAfterMs: number): ProblemError =>
  tooManyRequests(ACCOUNT_ERRORS.totpThrottled, 'too many wrong codes; wait before trying again', retryAfterMs);

export const invalidPassword = (): ProblemError => badRequest(ACCOUNT_ERRORS.invalidPassword, 'the password is wrong');

export const ssoNotConfigured = (): ProblemError => notFound(ACCOUNT_ERRORS.ssoNotConfigured, 'this org has no SSO provider');

export const invalidSsoSettings = (detail: string): ProblemError => badRequest(ACCOUNT_ERRORS.invalidSsoSettings, detail);

export const ssoDiscoveryFailed = (): ProblemError =>
  new ProblemError(422, ACCOUNT_ERRORS.ssoDiscoveryFailed, "the SSO provider's discovery document (<issuer>/.well-known/openid-configuration) cannot be fetched or does not name this issuer");

export const ssoProviderError = (): ProblemError =>
  new ProblemError(502, ACCOUNT_ERRORS.ssoProviderError, 'the SSO provider refused the sign-in or answered something that does not validate (client id and secret, redirect URI)');

export const ssoEmailNotVerified = (): ProblemError => forbidden(ACCOUNT_ERRORS.ssoEmailNotVerified, 'the SSO provider did not vouch for an e-mail address (email_verified)');

export const ssoDomainNotAllowed = (): ProblemError => forbidden(ACCOUNT_ERRORS.ssoDomainNotAllowed, "this e-mail domain may not sign in to the org");

export const ssoNoAccount = (): ProblemError => forbidden(ACCOUNT_ERRORS.ssoNoAccount, 'no account of the org is linked to this person, and the org only lets existing accounts sign in');

export const ssoUsernameTaken = (): ProblemError => conflict(ACCOUNT_ERRORS.ssoUsernameTaken, 'an account with this e-mail address as its username exists and may not be linked (another org, or the org does not link by e-mail)');
