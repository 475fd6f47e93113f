import type { SignetConfig } from '@signet/config';

/** Tunables of the directory feature; the composition builds them with {@link directoryOptionsFrom}. */
export interface DirectoryOptions {
  /** Most resources in one SCIM list response (ServiceProviderConfig `filter.maxResults`). */
  scimMaxResults: number;
  /** SIGNET_LDAP_SYNC_INTERVAL_MS: every org's LDAP connection is synced this often; 0 = only on demand. */
  ldapSyncIntervalMs: number;
  /** SIGNET_LDAP_FULL_SYNC_INTERVAL_MS: a scheduled sync is a full one when the last full one is older than this. */
  ldapFullSyncIntervalMs: number;
  /** SIGNET_LDAP_ALLOW_PLAIN: ldap:// without StartTLS is accepted. */
  ldapAllowPlain: boolean;
}

export const DIRECTORY_OPTIONS = Symbol('DIRECTORY_OPTIONS');

export function directoryOptionsFrom(config: SignetConfig): DirectoryOptions {
  // The SCIM page size is a protocol constant advertised to the IdP, not a variable.
  return {
    scimMaxResults: 200,
    ldapSyncIntervalMs: config.directory.ldapSyncIntervalMs,
    ldapFullSyncIntervalMs: config.directory.ldapFullSyncIntervalMs,
    ldapAllowPlain: config.directory.ldapAllowPlain,
  };
}
