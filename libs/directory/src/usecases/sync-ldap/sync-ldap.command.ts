import type { LdapSyncKind } from '../../ldap/ldap-snapshot';

/**
 * POST /v1/directory/ldap/sync, and each scheduled sync: `incremental` reads
 * only what changed since the last sync, or everything when it cannot
 * (no earlier sync, another domain controller, a group changed).
 */
export interface SyncLdapCommand {
  orgId: string;
  kind: LdapSyncKind;
}
