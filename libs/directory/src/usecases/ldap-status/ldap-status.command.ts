/** GET /v1/directory/ldap/status. */
export interface LdapStatusCommand {
  orgId: string;
}
