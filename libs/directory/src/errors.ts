import { badRequest, forbidden, notFound, ProblemError } from '@signet/http';

/**
 * The directory feature's problem codes (problem+json on /v1), each written
 * once here. The SCIM endpoints answer SCIM error bodies instead ({@link ScimError}).
 */
export const DIRECTORY_ERRORS = {
  /** POST /v1/tokens for a user the org's directory does not know, when the org refuses unknown users. */
  userUnknown: 'directory_user_unknown',
  /** POST /v1/tokens for a user deactivated in the directory. */
  userDisabled: 'directory_user_disabled',
  /** POST /v1/tokens for a directory user whose groups grant nothing. */
  userWithoutAccess: 'directory_user_without_access',
  /** POST /v1/tokens asking for more than the user's groups grant. */
  permissionExceeded: 'directory_permission_exceeded',
  groupNotFound: 'directory_group_not_found',
  invalidGroupPermission: 'invalid_group_permission',
  /** An LDAP bind password that is empty: it would be an anonymous bind. */
  ldapEmptyPassword: 'ldap_empty_password',
  invalidLdapConnection: 'invalid_ldap_connection',
  ldapNotConfigured: 'ldap_not_configured',
} as const;

export type DirectoryErrorCode = (typeof DIRECTORY_ERRORS)[keyof typeof DIRECTORY_ERRORS];

export const directoryUserUnknown = (): ProblemError =>
  forbidden(DIRECTORY_ERRORS.userUnknown, "this org's directory does not know this user, and the org refuses unknown users");
export const directoryUserDisabled = (): ProblemError => forbidden(DIRECTORY_ERRORS.userDisabled, "this user is deactivated in the org's directory");
export const directoryUserWithoutAccess = (): ProblemError =>
  forbidden(DIRECTORY_ERRORS.userWithoutAccess, "none of this user's directory groups grants MQTT permissions");
export const directoryPermissionExceeded = (missing: readonly string[]): ProblemError =>
  forbidden(DIRECTORY_ERRORS.permissionExceeded, `the user's directory groups do not grant: ${missing.join(', ')}`);
export const groupNotFound = (): ProblemError => notFound(DIRECTORY_ERRORS.groupNotFound, 'no such directory group in this org');
export const invalidGroupPermission = (detail: string): ProblemError => badRequest(DIRECTORY_ERRORS.invalidGroupPermission, detail);

export const ldapNotConfigured = (): ProblemError => notFound(DIRECTORY_ERRORS.ldapNotConfigured, 'this org has no LDAP connection (PUT /v1/directory/ldap)');

/** RFC 7644 §3.12 `scimType` values Signet answers with. */
export const SCIM_TYPES = {
  invalidFilter: 'invalidFilter',
  uniqueness: 'uniqueness',
  invalidSyntax: 'invalidSyntax',
  invalidPath: 'invalidPath',
  noTarget: 'noTarget',
  invalidValue: 'invalidValue',
  mutability: 'mutability',
} as const;

export type ScimType = (typeof SCIM_TYPES)[keyof typeof SCIM_TYPES];

export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** An error answered as a SCIM error body (RFC 7644 §3.12) on /scim/v2. */
export class ScimError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly scimType?: ScimType,
  ) {
    super(detail);
  }

  body(): Record<string, unknown> {
    return { schemas: [SCIM_ERROR_SCHEMA], status: String(this.status), ...(this.scimType ? { scimType: this.scimType } : {}), detail: this.detail };
  }
}

export const scimNotFound = (what: 'User' | 'Group'): ScimError => new ScimError(404, `${what} not found`);
export const scimInvalidValue = (detail: string): ScimError => new ScimError(400, detail, SCIM_TYPES.invalidValue);
export const scimDuplicateUserName = (): ScimError => new ScimError(409, 'userName is already taken in this directory', SCIM_TYPES.uniqueness);
export const scimPreconditionFailed = (): ScimError => new ScimError(412, 'the resource changed: its version is not the one in If-Match');
