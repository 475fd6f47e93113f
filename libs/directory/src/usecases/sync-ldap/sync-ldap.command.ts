/** POST /v1/directory/ldap/sync: one full sync now. */
export interface SyncLdapCommand {
  orgId: string;
}
