/** PUT /v1/directory/ldap: the org's LDAP connection, replacing any former one. */
export interface ConfigureLdapCommand {
  orgId: string;
  url: string;
  bindDn: string;
  bindPassword: string;
  baseDn: string;
  userFilter: string;
  groupFilter: string;
  disabledFilter: string | null;
  userNameAttribute: string;
  tlsCa: string | null;
  allowPlain: boolean;
  maxDisableShare: number;
}
