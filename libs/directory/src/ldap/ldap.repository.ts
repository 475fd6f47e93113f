import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

import { DATA_SOURCE, inTransaction } from '@signet/persistence';

import type { LdapFlavor } from './ldap-reader';
import type { LdapCursor, LdapSnapshot, LdapSyncResult, LdapSyncStatus } from './ldap-snapshot';

export interface LdapConnection {
  orgId: string;
  flavor: LdapFlavor;
  url: string;
  starttls: boolean;
  bindDn: string;
  /** Sealed with the master key (SecretBox, context `ldap:<org id>`). */
  sealedBindPassword: string;
  baseDn: string;
  userFilter: string;
  groupFilter: string;
  disabledFilter: string | null;
  userNameAttribute: string;
  tlsCa: string | null;
  maxDisableShare: number;
  lastSync: LdapSyncStatus | null;
  /** Where the last sync left off; null after the connection changed (the next sync is full). */
  syncCursor: LdapCursor | null;
  lastFullSyncAt: Date | null;
}

/** What PUT /v1/directory/ldap stores; the sync's bookkeeping starts over. */
export type LdapConnectionFields = Omit<LdapConnection, 'lastSync' | 'syncCursor' | 'lastFullSyncAt'>;

export interface LdapRepository {
  find(orgId: string): Promise<LdapConnection | null>;
  /** Orgs with an LDAP connection, for the scheduled sync. */
  orgIds(): Promise<string[]>;
  save(connection: LdapConnectionFields): Promise<LdapConnection>;
  recordStatus(orgId: string, status: LdapSyncStatus): Promise<void>;
  /**
   * Applies a read in one transaction, with the cursor it ends at: LDAP-sourced
   * users (and, for a full read, groups) are upserted by external id; a full
   * read deletes the missing ones. When more than `maxDisableShare` of the
   * active LDAP users would be disabled or removed, nothing is written.
   */
  apply(orgId: string, snapshot: LdapSnapshot, maxDisableShare: number): Promise<LdapSyncResult>;
}

export const LDAP_REPOSITORY = Symbol('LDAP_REPOSITORY');

const LDAP_SYNC_LOCK_CLASS = 0x5167_0010;

interface ConnectionRow {
  org_id: string;
  flavor: LdapFlavor;
  url: string;
  starttls: boolean;
  bind_dn: string;
  bind_password: string;
  base_dn: string;
  user_filter: string;
  group_filter: string;
  disabled_filter: string | null;
  user_name_attribute: string;
  tls_ca: string | null;
  max_disable_share: number;
  last_sync: LdapSyncStatus | null;
  sync_cursor: LdapCursor | null;
  last_full_sync_at: Date | string | null;
}

const toConnection = (r: ConnectionRow): LdapConnection => ({
  orgId: r.org_id,
  flavor: r.flavor,
  url: r.url,
  starttls: r.starttls,
  bindDn: r.bind_dn,
  sealedBindPassword: r.bind_password,
  baseDn: r.base_dn,
  userFilter: r.user_filter,
  groupFilter: r.group_filter,
  disabledFilter: r.disabled_filter,
  userNameAttribute: r.user_name_attribute,
  tlsCa: r.tls_ca,
  maxDisableShare: Number(r.max_disable_share),
  lastSync: r.last_sync,
  syncCursor: r.sync_cursor,
  lastFullSyncAt: r.last_full_sync_at === null ? null : new Date(r.last_full_sync_at),
});

@Injectable()
export class TypeOrmLdapRepository implements LdapRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async find(orgId: string): Promise<LdapConnection | null> {
    const rows: ConnectionRow[] = await this.dataSource.query(`SELECT * FROM directory_ldap_connections WHERE org_id = $1`, [orgId]);
    return rows[0] ? toConnection(rows[0]) : null;
  }

  async orgIds(): Promise<string[]> {
    const rows: Array<{ org_id: string }> = await this.dataSource.query(`SELECT org_id FROM directory_ldap_connections ORDER BY org_id`);
    return rows.map((r) => r.org_id);
  }

  async save(c: LdapConnectionFields): Promise<LdapConnection> {
    // Another server, base or filter makes the cursor meaningless: the next sync is a full one.
    await this.dataSource.query(
      `INSERT INTO directory_ldap_connections
         (org_id, url, bind_dn, bind_password, base_dn, user_filter, group_filter, disabled_filter, user_name_attribute, tls_ca, max_disable_share, flavor, starttls)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       ON CONFLICT (org_id) DO UPDATE SET url = EXCLUDED.url, bind_dn = EXCLUDED.bind_dn, bind_password = EXCLUDED.bind_password,
         base_dn = EXCLUDED.base_dn, user_filter = EXCLUDED.user_filter, group_filter = EXCLUDED.group_filter,
         disabled_filter = EXCLUDED.disabled_filter, user_name_attribute = EXCLUDED.user_name_attribute, tls_ca = EXCLUDED.tls_ca,
         max_disable_share = EXCLUDED.max_disable_share, flavor = EXCLUDED.flavor, starttls = EXCLUDED.starttls,
         sync_cursor = NULL, updated_at = now()`,
      [c.orgId, c.url, c.bindDn, c.sealedBindPassword, c.baseDn, c.userFilter, c.groupFilter, c.disabledFilter, c.userNameAttribute, c.tlsCa, c.maxDisableShare, c.flavor, c.starttls],
    );
    // A directory exists from now on: POST /v1/tokens applies it.
    await this.dataSource.query(`INSERT INTO directory_settings (org_id) VALUES ($1) ON CONFLICT DO NOTHING`, [c.orgId]);
    return (await this.find(c.orgId))!;
  }

  async recordStatus(orgId: string, status: LdapSyncStatus): Promise<void> {
    await this.dataSource.query(`UPDATE directory_ldap_connections SET last_sync = $2 WHERE org_id = $1`, [orgId, JSON.stringify(status)]);
  }

  apply(orgId: string, snapshot: LdapSnapshot, maxDisableShare: number): Promise<LdapSyncResult> {
    return inTransaction(this.dataSource, (m) => applySnapshot(m, orgId, snapshot, maxDisableShare));
  }
}

async function applySnapshot(m: EntityManager, orgId: string, snapshot: LdapSnapshot, maxDisableShare: number): Promise<LdapSyncResult> {
  // Syncs of one org (replicas, on demand beside the schedule) apply one after the other.
  // Two-key form: its own key space, apart from the one-key ADVISORY_LOCKS of @signet/persistence.
  await m.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [LDAP_SYNC_LOCK_CLASS, orgId]);
  const existing: Array<{ id: string; external_id: string; user_name: string; display_name: string | null; emails: Array<{ value?: string }>; active: boolean }> =
    await m.query(`SELECT id, external_id, user_name, display_name, emails, active FROM directory_users WHERE org_id = $1 AND source = 'ldap' FOR UPDATE`, [orgId]);
  const before = new Map(existing.map((u) => [u.external_id, u]));
  const incoming = new Map(snapshot.users.map((u) => [u.externalId, u]));
  const active = existing.filter((u) => u.active);
  // An incremental read says nothing of the users it did not read.
  const losing = active.filter((u) => (snapshot.partial ? incoming.get(u.external_id)?.active === false : !incoming.get(u.external_id)?.active));
  const deleted = snapshot.partial ? [] : existing.filter((u) => !incoming.has(u.external_id));
  const changed = snapshot.users.filter((u) => {
    const b = before.get(u.externalId);
    return b !== undefined && (b.user_name !== u.userName || b.display_name !== u.displayName || (b.emails[0]?.value ?? null) !== u.email || b.active !== u.active);
  });
  const counts = {
    users: snapshot.users.length,
    groups: snapshot.groups.length,
    created: snapshot.users.filter((u) => !before.has(u.externalId)).length,
    updated: changed.length,
    disabled: losing.length - deleted.filter((u) => u.active).length,
    deleted: deleted.length,
  };
  if (active.length > 0 && losing.length / active.length > maxDisableShare) {
    return {
      status: 'refused',
      reason: `${losing.length} of ${active.length} active users would be disabled or removed, more than the allowed ${Math.round(maxDisableShare * 100)}%`,
      counts,
    };
  }
  const revoke = new Set<string>(losing.map((u) => u.user_name));
  const idOf = new Map(existing.map((u) => [u.external_id, u.id]));
  const emailsOf = (email: string | null) => JSON.stringify(email ? [{ value: email, type: 'work', primary: true }] : []);
  for (const u of changed) {
    const b = before.get(u.externalId)!;
    if (b.user_name !== u.userName) revoke.add(b.user_name);
    await m.query(
      `UPDATE directory_users SET user_name = $3, display_name = $4, emails = $5, active = $6, version = version + 1, updated_at = now() WHERE org_id = $1 AND id = $2`,
      [orgId, b.id, u.userName, u.displayName, emailsOf(u.email), u.active],
    );
  }
  for (const u of snapshot.users.filter((x) => !before.has(x.externalId))) {
    const id = randomUUID();
    idOf.set(u.externalId, id);
    await m.query(
      `INSERT INTO directory_users (id, org_id, external_id, user_name, display_name, emails, active, source) VALUES ($1, $2, $3, $4, $5, $6, $7, 'ldap')`,
      [id, orgId, u.externalId, u.userName, u.displayName, emailsOf(u.email), u.active],
    );
  }
  if (deleted.length > 0) {
    await m.query(`DELETE FROM directory_users WHERE org_id = $1 AND id = ANY($2::uuid[])`, [orgId, deleted.map((u) => u.id)]);
  }
  if (!snapshot.partial) await applyGroups(m, orgId, snapshot, idOf, revoke);
  await m.query(
    `UPDATE directory_ldap_connections SET sync_cursor = $2, last_full_sync_at = CASE WHEN $3 THEN now() ELSE last_full_sync_at END WHERE org_id = $1`,
    [orgId, snapshot.cursor === null ? null : JSON.stringify(snapshot.cursor), !snapshot.partial],
  );
  return { status: 'ok', counts, revokeUserNames: [...revoke] };
}

async function applyGroups(m: EntityManager, orgId: string, snapshot: LdapSnapshot, idOf: Map<string, string>, revoke: Set<string>): Promise<void> {
  const groups: Array<{ id: string; external_id: string }> = await m.query(
    `SELECT id, external_id FROM directory_groups WHERE org_id = $1 AND source = 'ldap' FOR UPDATE`,
    [orgId],
  );
  const groupIdOf = new Map(groups.map((g) => [g.external_id, g.id]));
  for (const g of snapshot.groups) {
    let id = groupIdOf.get(g.externalId);
    if (id) {
      await m.query(`UPDATE directory_groups SET display_name = $3, updated_at = now() WHERE org_id = $1 AND id = $2 AND display_name <> $3`, [orgId, id, g.displayName]);
    } else {
      id = randomUUID();
      await m.query(`INSERT INTO directory_groups (id, org_id, external_id, display_name, source) VALUES ($1, $2, $3, $4, 'ldap')`, [id, orgId, g.externalId, g.displayName]);
    }
    const memberIds = g.memberExternalIds.map((x) => idOf.get(x)).filter((x): x is string => x !== undefined);
    const left: Array<{ user_name: string }> = await m.query(
      `WITH gone AS (DELETE FROM directory_memberships WHERE group_id = $1 AND NOT (user_id = ANY($2::uuid[])) RETURNING user_id)
       SELECT u.user_name FROM gone JOIN directory_users u ON u.id = gone.user_id`,
      [id, memberIds],
    );
    left.forEach((r) => revoke.add(r.user_name));
    if (memberIds.length > 0) {
      await m.query(`INSERT INTO directory_memberships (group_id, user_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING`, [id, memberIds]);
    }
  }
  const goneGroups = groups.filter((g) => !snapshot.groups.some((s) => s.externalId === g.external_id)).map((g) => g.id);
  if (goneGroups.length > 0) {
    const members: Array<{ user_name: string }> = await m.query(
      `SELECT u.user_name FROM directory_memberships dm JOIN directory_users u ON u.id = dm.user_id WHERE dm.group_id = ANY($1::uuid[])`,
      [goneGroups],
    );
    members.forEach((r) => revoke.add(r.user_name));
    await m.query(`DELETE FROM directory_groups WHERE org_id = $1 AND id = ANY($2::uuid[])`, [orgId, goneGroups]);
  }
}
