import type { LdapReadOptions } from '../../ldap/ldap-reader';

/** PUT /v1/directory/ldap: the org's LDAP connection, replacing any former one (what to read, and the sync's rules). */
export interface ConfigureLdapCommand extends LdapReadOptions {
  orgId: string;
  maxDisableShare: number;
}
