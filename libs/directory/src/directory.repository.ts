import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

import { DATA_SOURCE, inTransaction, KeysetPosition, sqlState } from '@signet/persistence';
import type { Permissions } from '@signet/permissions';

/** Whether tokens for users the directory does not know are refused (the default) or issued as without a directory. */
export type UnknownUserPolicy = 'refuse' | 'allow';

export interface DirectorySettings {
  orgId: string;
  hasScimToken: boolean;
  unknownUsers: UnknownUserPolicy;
}

export interface DirectoryEmail {
  value: string;
  type?: string;
  primary?: boolean;
}

/** The fields of a user a client writes (SCIM, LDAP sync). */
export interface DirectoryUserFields {
  externalId: string | null;
  userName: string;
  displayName: string | null;
  name: Record<string, string> | null;
  emails: DirectoryEmail[];
  active: boolean;
}

export interface DirectoryUser extends DirectoryUserFields {
  id: string;
  orgId: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  groups: Array<{ id: string; displayName: string }>;
}

export interface DirectoryGroupFields {
  externalId: string | null;
  displayName: string;
  /** Directory user ids; ids not of this org are ignored. */
  memberIds: string[];
}

export interface DirectoryGroup {
  id: string;
  orgId: string;
  externalId: string | null;
  displayName: string;
  permissions: Permissions;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  members: Array<{ id: string; userName: string }>;
}

/** What the issuance gate needs to know about a user, in one query. */
export interface DirectoryAccess {
  unknownUsers: UnknownUserPolicy;
  user: { userName: string; active: boolean; permissions: Permissions[] } | null;
}

/** One `eq` of a SCIM filter; a list of them is their conjunction. */
export type UserCondition = { attribute: 'userName' | 'externalId' | 'emails.value' | 'displayName'; value: string };
export type GroupCondition = { attribute: 'displayName' | 'externalId'; value: string };

export interface Page<T> {
  total: number;
  items: T[];
}

/** What a write changed for access: the user names whose tokens must be revoked. */
export interface AccessChange<T> {
  result: T;
  revokeUserNames: string[];
}

/** A user name another user of the org already has (case-insensitively). */
export class DuplicateUserNameError extends Error {}
/** If-Match named another version than the stored one. */
export class VersionMismatchError extends Error {}

export interface DirectoryRepository {
  settings(orgId: string): Promise<DirectorySettings | null>;
  orgOfScimToken(tokenHash: string): Promise<string | null>;
  setScimToken(orgId: string, tokenHash: string): Promise<void>;
  setUnknownUsers(orgId: string, policy: UnknownUserPolicy): Promise<DirectorySettings>;

  findUser(orgId: string, id: string): Promise<DirectoryUser | null>;
  /** null: the org has no directory. Otherwise its policy, and the user with the permissions of each of their groups (one query). */
  access(orgId: string, userName: string): Promise<DirectoryAccess | null>;
  listUsers(orgId: string, conditions: UserCondition[], offset: number, limit: number): Promise<Page<DirectoryUser>>;
  createUser(orgId: string, id: string, fields: DirectoryUserFields): Promise<DirectoryUser>;
  /** null: no such user. Revokes when the user is inactive afterwards or was renamed. */
  updateUser(orgId: string, id: string, fields: DirectoryUserFields, ifVersion?: number): Promise<AccessChange<DirectoryUser> | null>;
  deleteUser(orgId: string, id: string, ifVersion?: number): Promise<AccessChange<void> | null>;

  findGroup(orgId: string, id: string): Promise<DirectoryGroup | null>;
  listGroups(orgId: string, conditions: GroupCondition[], offset: number, limit: number): Promise<Page<DirectoryGroup>>;
  /** Newest first, keyset on (created_at, id): the admin API's list. */
  groupsAfter(orgId: string, after: KeysetPosition | undefined, limit: number): Promise<DirectoryGroup[]>;
  createGroup(orgId: string, id: string, fields: DirectoryGroupFields): Promise<DirectoryGroup>;
  /** Revokes the members who left (their permissions narrowed). */
  updateGroup(orgId: string, id: string, fields: DirectoryGroupFields, ifVersion?: number): Promise<AccessChange<DirectoryGroup> | null>;
  deleteGroup(orgId: string, id: string, ifVersion?: number): Promise<AccessChange<void> | null>;
  /** Revokes every member: their tokens carry the old permissions. */
  setGroupPermissions(orgId: string, id: string, permissions: Permissions): Promise<AccessChange<DirectoryGroup> | null>;
}

export const DIRECTORY_REPOSITORY = Symbol('DIRECTORY_REPOSITORY');

interface UserRow {
  id: string;
  org_id: string;
  external_id: string | null;
  user_name: string;
  display_name: string | null;
  name: Record<string, string> | null;
  emails: DirectoryEmail[];
  active: boolean;
  version: number;
  created_at: Date;
  updated_at: Date;
  groups: Array<{ id: string; displayName: string }> | null;
}

interface GroupRow {
  id: string;
  org_id: string;
  external_id: string | null;
  display_name: string;
  publish: string[];
  subscribe: string[];
  version: number;
  created_at: Date;
  updated_at: Date;
  members: Array<{ id: string; userName: string }> | null;
}

const USER_SELECT = `
  SELECT u.*, (SELECT coalesce(jsonb_agg(jsonb_build_object('id', g.id, 'displayName', g.display_name) ORDER BY g.display_name), '[]')
               FROM directory_memberships m JOIN directory_groups g ON g.id = m.group_id WHERE m.user_id = u.id) AS groups
  FROM directory_users u`;

const GROUP_SELECT = `
  SELECT g.*, (SELECT coalesce(jsonb_agg(jsonb_build_object('id', u.id, 'userName', u.user_name) ORDER BY u.user_name), '[]')
               FROM directory_memberships m JOIN directory_users u ON u.id = m.user_id WHERE m.group_id = g.id) AS members
  FROM directory_groups g`;

const USER_COLUMNS: Record<UserCondition['attribute'], (p: string) => string> = {
  // userName is caseExact false (RFC 7643 §4.1.1), the others are compared as stored.
  userName: (p) => `lower(u.user_name) = lower(${p})`,
  externalId: (p) => `u.external_id = ${p}`,
  displayName: (p) => `u.display_name = ${p}`,
  'emails.value': (p) => `EXISTS (SELECT 1 FROM jsonb_array_elements(u.emails) e WHERE lower(e->>'value') = lower(${p}))`,
};
const GROUP_COLUMNS: Record<GroupCondition['attribute'], (p: string) => string> = {
  displayName: (p) => `g.display_name = ${p}`,
  externalId: (p) => `g.external_id = ${p}`,
};

const toUser = (r: UserRow): DirectoryUser => ({
  id: r.id,
  orgId: r.org_id,
  externalId: r.external_id,
  userName: r.user_name,
  displayName: r.display_name,
  name: r.name,
  emails: r.emails,
  active: r.active,
  version: r.version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  groups: r.groups ?? [],
});

const toGroup = (r: GroupRow): DirectoryGroup => ({
  id: r.id,
  orgId: r.org_id,
  externalId: r.external_id,
  displayName: r.display_name,
  permissions: { publish: r.publish, subscribe: r.subscribe },
  version: r.version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  members: r.members ?? [],
});

/** The directory tables, in SQL: every write is one transaction, and names who must lose their tokens. */
@Injectable()
export class TypeOrmDirectoryRepository implements DirectoryRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async settings(orgId: string): Promise<DirectorySettings | null> {
    const rows: Array<{ org_id: string; scim_token_hash: string | null; unknown_users: UnknownUserPolicy }> = await this.dataSource.query(
      `SELECT org_id, scim_token_hash, unknown_users FROM directory_settings WHERE org_id = $1`,
      [orgId],
    );
    return rows[0] ? { orgId, hasScimToken: rows[0].scim_token_hash !== null, unknownUsers: rows[0].unknown_users } : null;
  }

  async orgOfScimToken(tokenHash: string): Promise<string | null> {
    const rows: Array<{ org_id: string }> = await this.dataSource.query(`SELECT org_id FROM directory_settings WHERE scim_token_hash = $1`, [tokenHash]);
    return rows[0]?.org_id ?? null;
  }

  async setScimToken(orgId: string, tokenHash: string): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO directory_settings (org_id, scim_token_hash) VALUES ($1, $2)
       ON CONFLICT (org_id) DO UPDATE SET scim_token_hash = EXCLUDED.scim_token_hash, updated_at = now()`,
      [orgId, tokenHash],
    );
  }

  async setUnknownUsers(orgId: string, policy: UnknownUserPolicy): Promise<DirectorySettings> {
    await this.dataSource.query(
      `INSERT INTO directory_settings (org_id, unknown_users) VALUES ($1, $2)
       ON CONFLICT (org_id) DO UPDATE SET unknown_users = EXCLUDED.unknown_users, updated_at = now()`,
      [orgId, policy],
    );
    return (await this.settings(orgId))!;
  }

  async findUser(orgId: string, id: string): Promise<DirectoryUser | null> {
    const rows: UserRow[] = await this.dataSource.query(`${USER_SELECT} WHERE u.org_id = $1 AND u.id = $2`, [orgId, id]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async access(orgId: string, userName: string): Promise<DirectoryAccess | null> {
    const rows: Array<{ unknown_users: UnknownUserPolicy; user_name: string | null; active: boolean | null; permissions: Permissions[] | null }> =
      await this.dataSource.query(
        `SELECT s.unknown_users, u.user_name, u.active,
                (SELECT jsonb_agg(jsonb_build_object('publish', g.publish, 'subscribe', g.subscribe))
                 FROM directory_memberships m JOIN directory_groups g ON g.id = m.group_id WHERE m.user_id = u.id) AS permissions
         FROM directory_settings s LEFT JOIN directory_users u ON u.org_id = s.org_id AND lower(u.user_name) = lower($2)
         WHERE s.org_id = $1`,
        [orgId, userName],
      );
    const row = rows[0];
    if (!row) return null;
    const user = row.user_name === null ? null : { userName: row.user_name, active: row.active === true, permissions: row.permissions ?? [] };
    return { unknownUsers: row.unknown_users, user };
  }

  async listUsers(orgId: string, conditions: UserCondition[], offset: number, limit: number): Promise<Page<DirectoryUser>> {
    const params: unknown[] = [orgId];
    const where = ['u.org_id = $1', ...conditions.map((c) => USER_COLUMNS[c.attribute](`$${params.push(c.value)}`))].join(' AND ');
    const [{ total }]: Array<{ total: string }> = await this.dataSource.query(`SELECT count(*) AS total FROM directory_users u WHERE ${where}`, params);
    const rows: UserRow[] = await this.dataSource.query(
      `${USER_SELECT} WHERE ${where} ORDER BY u.created_at, u.id OFFSET $${params.length + 1} LIMIT $${params.length + 2}`,
      [...params, offset, limit],
    );
    return { total: Number(total), items: rows.map(toUser) };
  }

  async createUser(orgId: string, id: string, f: DirectoryUserFields): Promise<DirectoryUser> {
    try {
      await this.dataSource.query(
        `INSERT INTO directory_users (id, org_id, external_id, user_name, display_name, name, emails, active) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [id, orgId, f.externalId, f.userName, f.displayName, f.name === null ? null : JSON.stringify(f.name), JSON.stringify(f.emails), f.active],
      );
    } catch (err) {
      if (sqlState(err) === '23505') throw new DuplicateUserNameError();
      throw err;
    }
    return (await this.findUser(orgId, id))!;
  }

  async updateUser(orgId: string, id: string, f: DirectoryUserFields, ifVersion?: number): Promise<AccessChange<DirectoryUser> | null> {
    return this.write(async (m) => {
      const before = await lockRow<{ user_name: string; version: number }>(m, 'directory_users', orgId, id, ifVersion);
      if (!before) return null;
      try {
        await m.query(
          `UPDATE directory_users SET external_id = $3, user_name = $4, display_name = $5, name = $6, emails = $7, active = $8,
                  version = version + 1, updated_at = now()
           WHERE org_id = $1 AND id = $2`,
          [orgId, id, f.externalId, f.userName, f.displayName, f.name === null ? null : JSON.stringify(f.name), JSON.stringify(f.emails), f.active],
        );
      } catch (err) {
        if (sqlState(err) === '23505') throw new DuplicateUserNameError();
        throw err;
      }
      const rows: UserRow[] = await m.query(`${USER_SELECT} WHERE u.org_id = $1 AND u.id = $2`, [orgId, id]);
      const revoke = new Set<string>();
      if (!f.active) revoke.add(f.userName);
      if (before.user_name !== f.userName) revoke.add(before.user_name);
      return { result: toUser(rows[0]), revokeUserNames: [...revoke] };
    });
  }

  async deleteUser(orgId: string, id: string, ifVersion?: number): Promise<AccessChange<void> | null> {
    return this.write(async (m) => {
      const before = await lockRow<{ user_name: string }>(m, 'directory_users', orgId, id, ifVersion);
      if (!before) return null;
      await m.query(`DELETE FROM directory_users WHERE org_id = $1 AND id = $2`, [orgId, id]);
      return { result: undefined, revokeUserNames: [before.user_name] };
    });
  }

  async findGroup(orgId: string, id: string): Promise<DirectoryGroup | null> {
    return findGroupWith(this.dataSource.manager, orgId, id);
  }

  async listGroups(orgId: string, conditions: GroupCondition[], offset: number, limit: number): Promise<Page<DirectoryGroup>> {
    const params: unknown[] = [orgId];
    const where = ['g.org_id = $1', ...conditions.map((c) => GROUP_COLUMNS[c.attribute](`$${params.push(c.value)}`))].join(' AND ');
    const [{ total }]: Array<{ total: string }> = await this.dataSource.query(`SELECT count(*) AS total FROM directory_groups g WHERE ${where}`, params);
    const rows: GroupRow[] = await this.dataSource.query(
      `${GROUP_SELECT} WHERE ${where} ORDER BY g.created_at, g.id OFFSET $${params.length + 1} LIMIT $${params.length + 2}`,
      [...params, offset, limit],
    );
    return { total: Number(total), items: rows.map(toGroup) };
  }

  async groupsAfter(orgId: string, after: KeysetPosition | undefined, limit: number): Promise<DirectoryGroup[]> {
    const rows: GroupRow[] = after
      ? await this.dataSource.query(`${GROUP_SELECT} WHERE g.org_id = $1 AND (g.created_at, g.id) < ($2, $3) ORDER BY g.created_at DESC, g.id DESC LIMIT $4`, [
          orgId,
          after.at,
          after.id,
          limit,
        ])
      : await this.dataSource.query(`${GROUP_SELECT} WHERE g.org_id = $1 ORDER BY g.created_at DESC, g.id DESC LIMIT $2`, [orgId, limit]);
    return rows.map(toGroup);
  }

  async createGroup(orgId: string, id: string, f: DirectoryGroupFields): Promise<DirectoryGroup> {
    return this.write(async (m) => {
      await m.query(`INSERT INTO directory_groups (id, org_id, external_id, display_name) VALUES ($1, $2, $3, $4)`, [id, orgId, f.externalId, f.displayName]);
      await insertMembers(m, orgId, id, f.memberIds);
      return (await findGroupWith(m, orgId, id))!;
    });
  }

  async updateGroup(orgId: string, id: string, f: DirectoryGroupFields, ifVersion?: number): Promise<AccessChange<DirectoryGroup> | null> {
    return this.write(async (m) => {
      if (!(await lockRow(m, 'directory_groups', orgId, id, ifVersion))) return null;
      const left: Array<{ user_name: string }> = await m.query(
        // A SELECT around the DELETE: TypeORM answers a bare DELETE … RETURNING as [rows, count].
        `WITH gone AS (DELETE FROM directory_memberships WHERE group_id = $1 AND NOT (user_id = ANY($2::uuid[])) RETURNING user_id)
         SELECT u.user_name FROM gone JOIN directory_users u ON u.id = gone.user_id`,
        [id, f.memberIds],
      );
      await insertMembers(m, orgId, id, f.memberIds);
      await m.query(
        `UPDATE directory_groups SET external_id = $3, display_name = $4, version = version + 1, updated_at = now() WHERE org_id = $1 AND id = $2`,
        [orgId, id, f.externalId, f.displayName],
      );
      return { result: (await findGroupWith(m, orgId, id))!, revokeUserNames: left.map((r) => r.user_name) };
    });
  }

  async deleteGroup(orgId: string, id: string, ifVersion?: number): Promise<AccessChange<void> | null> {
    return this.write(async (m) => {
      if (!(await lockRow(m, 'directory_groups', orgId, id, ifVersion))) return null;
      const members = await memberNames(m, id);
      await m.query(`DELETE FROM directory_groups WHERE org_id = $1 AND id = $2`, [orgId, id]);
      return { result: undefined, revokeUserNames: members };
    });
  }

  async setGroupPermissions(orgId: string, id: string, p: Permissions): Promise<AccessChange<DirectoryGroup> | null> {
    return this.write(async (m) => {
      if (!(await lockRow(m, 'directory_groups', orgId, id))) return null;
      await m.query(
        `UPDATE directory_groups SET publish = $3, subscribe = $4, version = version + 1, updated_at = now() WHERE org_id = $1 AND id = $2`,
        [orgId, id, JSON.stringify(p.publish), JSON.stringify(p.subscribe)],
      );
      return { result: (await findGroupWith(m, orgId, id))!, revokeUserNames: await memberNames(m, id) };
    });
  }

  private write<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return inTransaction(this.dataSource, work);
  }
}

/** Locks the row (null: none in this org); a version other than `ifVersion` aborts the transaction. */
async function lockRow<T extends { version: number }>(
  m: EntityManager,
  table: 'directory_users' | 'directory_groups',
  orgId: string,
  id: string,
  ifVersion?: number,
): Promise<T | null>;
async function lockRow<T>(m: EntityManager, table: string, orgId: string, id: string, ifVersion?: number): Promise<T | null>;
async function lockRow<T>(m: EntityManager, table: string, orgId: string, id: string, ifVersion?: number): Promise<T | null> {
  const cols = table === 'directory_users' ? 'user_name, version' : 'version';
  const rows: Array<T & { version: number }> = await m.query(`SELECT ${cols} FROM ${table} WHERE org_id = $1 AND id = $2 FOR UPDATE`, [orgId, id]);
  if (rows.length === 0) return null;
  if (ifVersion !== undefined && rows[0].version !== ifVersion) throw new VersionMismatchError();
  return rows[0];
}

async function findGroupWith(m: EntityManager, orgId: string, id: string): Promise<DirectoryGroup | null> {
  const rows: GroupRow[] = await m.query(`${GROUP_SELECT} WHERE g.org_id = $1 AND g.id = $2`, [orgId, id]);
  return rows[0] ? toGroup(rows[0]) : null;
}

async function insertMembers(m: EntityManager, orgId: string, groupId: string, memberIds: string[]): Promise<void> {
  if (memberIds.length === 0) return;
  // Only users of the same org: an id from elsewhere is ignored rather than joined across orgs.
  await m.query(
    `INSERT INTO directory_memberships (group_id, user_id)
     SELECT $1, u.id FROM directory_users u WHERE u.org_id = $2 AND u.id = ANY($3::uuid[])
     ON CONFLICT DO NOTHING`,
    [groupId, orgId, memberIds],
  );
}

async function memberNames(m: EntityManager, groupId: string): Promise<string[]> {
  const rows: Array<{ user_name: string }> = await m.query(
    `SELECT u.user_name FROM directory_memberships dm JOIN directory_users u ON u.id = dm.user_id WHERE dm.group_id = $1`,
    [groupId],
  );
  return rows.map((r) => r.user_name);
}
