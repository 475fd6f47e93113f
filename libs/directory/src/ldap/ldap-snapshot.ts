export interface LdapSnapshotUser {
  externalId: string;
  userName: string;
  displayName: string | null;
  email: string | null;
  active: boolean;
}

export interface LdapSnapshotGroup {
  externalId: string;
  displayName: string;
  /** Users in the group, directly or through nested groups. */
  memberExternalIds: string[];
}

/**
 * Where a sync left off, for the next incremental one. AD: the domain
 * controller's invocationId and its highestCommittedUSN (a decimal string);
 * other LDAP: the newest modifyTimestamp seen, and the versions of the groups
 * stamped with it (a later change within the same second is then noticed).
 */
export type LdapCursor = { kind: 'usn'; invocationId: string; usn: string } | { kind: 'timestamp'; modifyTimestamp: string; groupsAt: string[] };

/**
 * What a read found; the sync applies it as a whole or not at all. A full
 * read (`partial: false`) is the whole directory: what it lacks is deleted.
 * An incremental one holds the changed users only, and no groups.
 */
export interface LdapSnapshot {
  partial: boolean;
  users: LdapSnapshotUser[];
  groups: LdapSnapshotGroup[];
  cursor: LdapCursor | null;
}

export type LdapSyncKind = 'full' | 'incremental';

export interface LdapSyncCounts {
  /** Users read (all of them in a full sync; the changed ones in an incremental one). */
  users: number;
  groups: number;
  created: number;
  /** Users whose stored fields changed (created ones not included). */
  updated: number;
  disabled: number;
  deleted: number;
}

export type LdapSyncResult =
  | { status: 'ok'; counts: LdapSyncCounts; revokeUserNames: string[] }
  | { status: 'refused'; reason: string; counts: LdapSyncCounts };

export interface LdapSyncStatus {
  at: string;
  kind: LdapSyncKind;
  status: 'ok' | 'refused' | 'failed';
  reason?: string;
  /** An incremental sync that had to read everything: why. */
  full_because?: string;
  counts?: LdapSyncCounts;
}
