import { badRequest, conflict, forbidden, ProblemError, unauthorized } from '@signet/http';

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
