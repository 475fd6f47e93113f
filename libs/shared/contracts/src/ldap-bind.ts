/**
 * The edge's `ldap` chain step asks the directory whether a username and
 * password are good: a bind as the user against the org's LDAP/AD, and the
 * user's permissions from their synced directory groups. In-process in the
 * all-in-one (the directory feature implements it).
 */
export type LdapBindVerdict =
  | { result: 'allow'; permissions: { publish: string[]; subscribe: string[] } }
  /** Wrong password, unknown or deactivated user, no permissions. */
  | { result: 'deny'; detail: string }
  /** The org has no LDAP connection: the step is not for it. */
  | { result: 'ignore' }
  /** The directory could not be asked (down, timeout, TLS): no verdict. */
  | { result: 'unavailable'; detail: string };

export interface LdapBinder {
  bindConnect(orgId: string, userName: string, password: string): Promise<LdapBindVerdict>;
}

/** The credential id of an LDAP-bound session: what the directory's deprovisioning names. */
export const ldapCredentialId = (orgId: string, userName: string): string => `ldap:${orgId}:${userName}`;
