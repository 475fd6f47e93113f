import type { KeysetPosition } from '@signet/persistence';
import type { Permissions } from '@signet/permissions';

import {
  AccessChange,
  DirectoryAccess,
  DirectoryGroup,
  DirectoryGroupFields,
  DirectoryRepository,
  DirectorySettings,
  DirectoryUser,
  DirectoryUserFields,
  DuplicateUserNameError,
  GroupCondition,
  Page,
  UnknownUserPolicy,
  UserCondition,
  VersionMismatchError,
} from '../directory.repository';

interface StoredUser extends DirectoryUserFields {
  id: string;
  orgId: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}
interface StoredGroup {
  id: string;
  orgId: string;
  externalId: string | null;
  displayName: string;
  permissions: Permissions;
  members: Set<string>;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** The directory tables in memory, with the same semantics as TypeOrmDirectoryRepository, for unit specs. */
export class InMemoryDirectoryRepository implements DirectoryRepository {
  readonly settingsByOrg = new Map<string, { tokenHash: string | null; unknownUsers: UnknownUserPolicy }>();
  readonly users = new Map<string, StoredUser>();
  readonly groups = new Map<string, StoredGroup>();

  async settings(orgId: string): Promise<DirectorySettings | null> {
    const s = this.settingsByOrg.get(orgId);
    return s ? { orgId, hasScimToken: s.tokenHash !== null, unknownUsers: s.unknownUsers } : null;
  }

  async orgOfScimToken(tokenHash: string): Promise<string | null> {
    for (const [orgId, s] of this.settingsByOrg) if (s.tokenHash === tokenHash) return orgId;
    return null;
  }

  async setScimToken(orgId: string, tokenHash: string): Promise<void> {
    this.settingsByOrg.set(orgId, { unknownUsers: 'refuse', ...this.settingsByOrg.get(orgId), tokenHash });
  }

  async setUnknownUsers(orgId: string, unknownUsers: UnknownUserPolicy): Promise<DirectorySettings> {
    this.settingsByOrg.set(orgId, { tokenHash: null, ...this.settingsByOrg.get(orgId), unknownUsers });
    return (await this.settings(orgId))!;
  }

  async findUser(orgId: string, id: string): Promise<DirectoryUser | null> {
    const u = this.users.get(id);
    return u && u.orgId === orgId ? this.present(u) : null;
  }

  async access(orgId: string, userName: string): Promise<DirectoryAccess | null> {
    const s = this.settingsByOrg.get(orgId);
    if (!s) return null;
    const u = [...this.users.values()].find((x) => x.orgId === orgId && x.userName.toLowerCase() === userName.toLowerCase());
    const permissions = u ? [...this.groups.values()].filter((g) => g.members.has(u.id)).map((g) => g.permissions) : [];
    return { unknownUsers: s.unknownUsers, user: u ? { userName: u.userName, active: u.active, permissions } : null };
  }

  async listUsers(orgId: string, conditions: UserCondition[], offset: number, limit: number): Promise<Page<DirectoryUser>> {
    const matches = [...this.users.values()].filter((u) => u.orgId === orgId && conditions.every((c) => userMatches(u, c)));
    return { total: matches.length, items: matches.slice(offset, offset + limit).map((u) => this.present(u)) };
  }

  async createUser(orgId: string, id: string, fields: DirectoryUserFields): Promise<DirectoryUser> {
    this.checkUnique(orgId, fields.userName, id);
    const now = new Date();
    this.users.set(id, { ...fields, id, orgId, version: 1, createdAt: now, updatedAt: now });
    return this.present(this.users.get(id)!);
  }

  async updateUser(orgId: string, id: string, fields: DirectoryUserFields, ifVersion?: number): Promise<AccessChange<DirectoryUser> | null> {
    const u = this.locked(this.users.get(id), orgId, ifVersion);
    if (!u) return null;
    this.checkUnique(orgId, fields.userName, id);
    const revoke = new Set<string>();
    if (!fields.active) revoke.add(fields.userName);
    if (u.userName !== fields.userName) revoke.add(u.userName);
    Object.assign(u, fields, { version: u.version + 1, updatedAt: new Date() });
    return { result: this.present(u), revokeUserNames: [...revoke] };
  }

  async deleteUser(orgId: string, id: string, ifVersion?: number): Promise<AccessChange<void> | null> {
    const u = this.locked(this.users.get(id), orgId, ifVersion);
    if (!u) return null;
    this.users.delete(id);
    for (const g of this.groups.values()) g.members.delete(id);
    return { result: undefined, revokeUserNames: [u.userName] };
  }

  async findGroup(orgId: string, id: string): Promise<DirectoryGroup | null> {
    const g = this.groups.get(id);
    return g && g.orgId === orgId ? this.presentGroup(g) : null;
  }

  async listGroups(orgId: string, conditions: GroupCondition[], offset: number, limit: number): Promise<Page<DirectoryGroup>> {
    const matches = [...this.groups.values()].filter((g) => g.orgId === orgId && conditions.every((c) => g[c.attribute] === c.value));
    return { total: matches.length, items: matches.slice(offset, offset + limit).map((g) => this.presentGroup(g)) };
  }

  async groupsAfter(orgId: string, after: KeysetPosition | undefined, limit: number): Promise<DirectoryGroup[]> {
    const key = (g: StoredGroup) => `${g.createdAt.toISOString()}|${g.id}`;
    return [...this.groups.values()]
      .filter((g) => g.orgId === orgId && (!after || key(g) < `${after.at.toISOString()}|${after.id}`))
      .sort((a, b) => (key(a) < key(b) ? 1 : -1))
      .slice(0, limit)
      .map((g) => this.presentGroup(g));
  }

  async createGroup(orgId: string, id: string, fields: DirectoryGroupFields): Promise<DirectoryGroup> {
    const now = new Date();
    const members = new Set(fields.memberIds.filter((m) => this.users.get(m)?.orgId === orgId));
    this.groups.set(id, { id, orgId, externalId: fields.externalId, displayName: fields.displayName, permissions: { publish: [], subscribe: [] }, members, version: 1, createdAt: now, updatedAt: now });
    return this.presentGroup(this.groups.get(id)!);
  }

  async updateGroup(orgId: string, id: string, fields: DirectoryGroupFields, ifVersion?: number): Promise<AccessChange<DirectoryGroup> | null> {
    const g = this.locked(this.groups.get(id), orgId, ifVersion);
    if (!g) return null;
    const members = new Set(fields.memberIds.filter((m) => this.users.get(m)?.orgId === orgId));
    const left = [...g.members].filter((m) => !members.has(m)).map((m) => this.users.get(m)!.userName);
    Object.assign(g, { externalId: fields.externalId, displayName: fields.displayName, members, version: g.version + 1, updatedAt: new Date() });
    return { result: this.presentGroup(g), revokeUserNames: left };
  }

  async deleteGroup(orgId: string, id: string, ifVersion?: number): Promise<AccessChange<void> | null> {
    const g = this.locked(this.groups.get(id), orgId, ifVersion);
    if (!g) return null;
    this.groups.delete(id);
    return { result: undefined, revokeUserNames: [...g.members].map((m) => this.users.get(m)!.userName) };
  }

  async setGroupPermissions(orgId: string, id: string, permissions: Permissions): Promise<AccessChange<DirectoryGroup> | null> {
    const g = this.locked(this.groups.get(id), orgId);
    if (!g) return null;
    Object.assign(g, { permissions, version: g.version + 1, updatedAt: new Date() });
    return { result: this.presentGroup(g), revokeUserNames: [...g.members].map((m) => this.users.get(m)!.userName) };
  }

  private locked<T extends { orgId: string; version: number }>(row: T | undefined, orgId: string, ifVersion?: number): T | null {
    if (!row || row.orgId !== orgId) return null;
    if (ifVersion !== undefined && row.version !== ifVersion) throw new VersionMismatchError();
    return row;
  }

  private checkUnique(orgId: string, userName: string, id: string): void {
    const taken = [...this.users.values()].some((u) => u.orgId === orgId && u.id !== id && u.userName.toLowerCase() === userName.toLowerCase());
    if (taken) throw new DuplicateUserNameError();
  }

  private present(u: StoredUser): DirectoryUser {
    const groups = [...this.groups.values()].filter((g) => g.members.has(u.id)).map((g) => ({ id: g.id, displayName: g.displayName }));
    return structuredClone({ ...u, groups });
  }

  private presentGroup(g: StoredGroup): DirectoryGroup {
    const { members, ...rest } = g;
    return structuredClone({ ...rest, members: [...members].map((m) => ({ id: m, userName: this.users.get(m)!.userName })) });
  }
}

function userMatches(u: StoredUser, c: UserCondition): boolean {
  switch (c.attribute) {
    case 'userName':
      return u.userName.toLowerCase() === c.value.toLowerCase();
    case 'emails.value':
      return u.emails.some((e) => e.value.toLowerCase() === c.value.toLowerCase());
    default:
      return u[c.attribute] === c.value;
  }
}
