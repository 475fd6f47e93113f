/** What a full LDAP read found; the sync applies it as a whole or not at all. */
export interface LdapSnapshot {
  users: Array<{ externalId: string; userName: string; displayName: string | null; email: string | null; active: boolean }>;
  groups: Array<{ externalId: string; displayName: string; memberExternalIds: string[] }>;
}

export interface LdapSyncCounts {
  users: number;
  groups: number;
  created: number;
  disabled: number;
  deleted: number;
}

export type LdapSyncResult =
  | { status: 'ok'; counts: LdapSyncCounts; revokeUserNames: string[] }
  | { status: 'refused'; reason: string; counts: LdapSyncCounts };

export interface LdapSyncStatus {
  at: string;
  status: 'ok' | 'refused' | 'failed';
  reason?: string;
  counts?: LdapSyncCounts;
}
