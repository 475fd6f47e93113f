import { isIP } from 'node:net';

import { Client, type Entry } from 'ldapts';

import { GroupEntry, resolveGroups, UserEntry } from './ldap-groups';
import type { LdapCursor, LdapSnapshot, LdapSnapshotGroup, LdapSnapshotUser } from './ldap-snapshot';

/** `active_directory`: objectGUID, userAccountControl, uSNChanged; `ldap` (OpenLDAP and the like): entryUUID, a disabled filter, modifyTimestamp. */
export const LDAP_FLAVORS = ['ldap', 'active_directory'] as const;
export type LdapFlavor = (typeof LDAP_FLAVORS)[number];

/** How to reach and bind (the password already opened). */
export interface LdapConnectOptions {
  url: string;
  bindDn: string;
  bindPassword: string;
  /** PEM of the CA to pin for ldaps:// or StartTLS; null: the system's CAs. */
  tlsCa: string | null;
  /** ldap:// upgraded with StartTLS (RFC 4511 §4.14) before the bind. */
  starttls: boolean;
}

/** Where and how to read. */
export interface LdapReadOptions extends LdapConnectOptions {
  flavor: LdapFlavor;
  baseDn: string;
  userFilter: string;
  groupFilter: string;
  disabledFilter: string | null;
  userNameAttribute: string;
}

export interface LdapReadProgress {
  phase: 'users' | 'groups';
  entries: number;
}

/** Entries per page; servers commonly cap a page (and an unpaged search) at 500 or 1,000. */
export const LDAP_PAGE_SIZE = 200;
const TIMEOUT_MS = 15_000;
/** AD `userAccountControl` ACCOUNTDISABLE ([MS-ADTS] §2.2.16). */
const UF_ACCOUNTDISABLE = 0x2;

const text = (x: string | Buffer): string => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x));
const first = (v: Entry[string] | undefined): string | null => {
  const x = Array.isArray(v) ? v[0] : v;
  return x === undefined ? null : text(x);
};
const all = (v: Entry[string] | undefined): string[] => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(text));

/**
 * An AD GUID (objectGUID, invocationId) as its canonical string: the first
 * three fields are little-endian on the wire ([MS-DTYP] §2.3.4.2).
 */
export function guidToString(raw: Buffer): string {
  if (raw.length !== 16) throw new Error(`a GUID has 16 bytes, got ${raw.length}`);
  const h = (from: number, to: number, reverse: boolean) => {
    const bytes = [...raw.subarray(from, to)];
    return (reverse ? bytes.reverse() : bytes).map((b) => b.toString(16).padStart(2, '0')).join('');
  };
  return `${h(0, 4, true)}-${h(4, 6, true)}-${h(6, 8, true)}-${h(8, 10, false)}-${h(10, 16, false)}`;
}

/** A connected, bound client (TLS as configured); the caller unbinds. */
export async function openLdap(options: LdapConnectOptions): Promise<Client> {
  const tlsOptions = () => (options.tlsCa ? { ca: [options.tlsCa] } : {});
  // ldapts speaks TLS from the first byte whenever it is given TLS options: for StartTLS they go to startTLS() only.
  const client = new Client({ url: options.url, timeout: TIMEOUT_MS, connectTimeout: TIMEOUT_MS, ...(options.starttls ? {} : { tlsOptions: tlsOptions() }) });
  try {
    if (options.starttls) {
      // ldapts does not tell startTLS() whom it talks to: without it, Node checks the certificate against "localhost".
      const host = new URL(options.url).hostname.replace(/^\[(.*)\]$/, '$1');
      await client.startTLS({ ...tlsOptions(), host, ...(isIP(host) ? {} : { servername: host }) });
    }
    await client.bind(options.bindDn, options.bindPassword);
    return client;
  } catch (err) {
    await client.unbind().catch(() => undefined);
    throw err;
  }
}

/**
 * What failed, for the sync status and logs: the error's class and message (the
 * server's diagnostic, a TLS verdict), never the bind password. Not
 * `instanceof Error`: socket errors may come from another realm (a test runner's).
 */
export function describeLdapError(err: unknown): string {
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') {
    return `${(err as object).constructor?.name ?? 'Error'}: ${(err as { message: string }).message}`;
  }
  return 'unknown error';
}

/** The flavour's attribute names. */
const idAttribute = (flavor: LdapFlavor) => (flavor === 'active_directory' ? 'objectGUID' : 'entryUUID');
const changeAttribute = (flavor: LdapFlavor) => (flavor === 'active_directory' ? 'uSNChanged' : 'modifyTimestamp');

class Reader {
  constructor(
    private readonly client: Client,
    private readonly options: LdapReadOptions,
    private readonly onProgress: (p: LdapReadProgress) => void,
  ) {}

  idOf(e: Entry): string | null {
    const v = e[idAttribute(this.options.flavor)];
    const x = Array.isArray(v) ? v[0] : v;
    if (x === undefined) return null;
    return this.options.flavor === 'active_directory' ? guidToString(Buffer.isBuffer(x) ? x : Buffer.from(String(x), 'binary')) : text(x);
  }

  async search(filter: string, attributes: string[], phase: LdapReadProgress['phase'] | null = null): Promise<Entry[]> {
    const entries: Entry[] = [];
    const pages = this.client.searchPaginated(this.options.baseDn, {
      scope: 'sub',
      filter,
      attributes,
      explicitBufferAttributes: this.options.flavor === 'active_directory' ? ['objectGUID'] : [],
      paged: { pageSize: LDAP_PAGE_SIZE },
    });
    for await (const page of pages) {
      entries.push(...page.searchEntries);
      if (phase) this.onProgress({ phase, entries: entries.length });
    }
    return entries;
  }

  /** Where the directory is now: read before the entries, so a change made during the read is read again next time. */
  async cursor(): Promise<Extract<LdapCursor, { kind: 'usn' }> | null> {
    if (this.options.flavor !== 'active_directory') return null;
    const root = (await this.client.search('', { scope: 'base', filter: '(objectClass=*)', attributes: ['highestCommittedUSN', 'dsServiceName'] })).searchEntries[0];
    const usn = first(root?.highestCommittedUSN);
    const service = first(root?.dsServiceName);
    if (!usn || !service) throw new Error('the rootDSE has no highestCommittedUSN or dsServiceName: is this an Active Directory domain controller?');
    const ntds = (await this.client.search(service, { scope: 'base', filter: '(objectClass=*)', attributes: ['invocationId'], explicitBufferAttributes: ['invocationId'] }))
      .searchEntries[0];
    const invocation = ntds?.invocationId;
    const raw = Array.isArray(invocation) ? invocation[0] : invocation;
    if (!Buffer.isBuffer(raw)) throw new Error(`${service} has no invocationId`);
    return { kind: 'usn', invocationId: guidToString(raw), usn };
  }

  async users(filter: string): Promise<{ users: LdapSnapshotUser[]; entries: UserEntry[]; newest: string | null }> {
    const o = this.options;
    const ad = o.flavor === 'active_directory';
    const attributes = [idAttribute(o.flavor), o.userNameAttribute, 'mail', 'displayName', 'cn', 'memberOf', changeAttribute(o.flavor), ...(ad ? ['userAccountControl'] : [])];
    const found = await this.search(filter, attributes, 'users');
    const disabled = o.disabledFilter ? new Set((await this.search(`(&${filter}${o.disabledFilter})`, [idAttribute(o.flavor)])).map((e) => this.idOf(e))) : new Set();
    const users: LdapSnapshotUser[] = [];
    const entries: UserEntry[] = [];
    for (const e of found) {
      const externalId = this.idOf(e);
      const userName = first(e[o.userNameAttribute]);
      if (externalId === null || userName === null) continue;
      const uac = Number(first(e.userAccountControl) ?? 0);
      users.push({
        externalId,
        userName,
        displayName: first(e.displayName) ?? first(e.cn),
        email: first(e.mail),
        active: !disabled.has(externalId) && !(ad && (uac & UF_ACCOUNTDISABLE) !== 0),
      });
      entries.push({ dn: e.dn, externalId, memberOf: all(e.memberOf) });
    }
    return { users, entries, newest: newestStamp(found) };
  }

  /** A group's version: its modifyTimestamp has whole seconds, OpenLDAP's entryCSN tells changes within one apart. */
  versionOf(e: Entry): string {
    return `${this.idOf(e)}|${first(e.modifyTimestamp) ?? ''}|${first(e.entryCSN) ?? ''}`;
  }

  async groups(filter: string, users: readonly UserEntry[]): Promise<{ groups: LdapSnapshotGroup[]; entries: Entry[] }> {
    const entries = await this.search(filter, [idAttribute(this.options.flavor), 'cn', 'member', 'uniqueMember', changeAttribute(this.options.flavor), 'entryCSN'], 'groups');
    const groups: GroupEntry[] = [];
    for (const e of entries) {
      const externalId = this.idOf(e);
      if (externalId !== null) groups.push({ dn: e.dn, externalId, displayName: first(e.cn) ?? e.dn, memberDns: [...all(e.member), ...all(e.uniqueMember)] });
    }
    return { groups: resolveGroups(groups, users), entries };
  }
}

/** The newest modifyTimestamp of entries (GeneralizedTime of one server compares as text). */
function newestStamp(entries: Entry[]): string | null {
  let newest: string | null = null;
  for (const e of entries) {
    const stamp = first(e.modifyTimestamp);
    if (stamp && (newest === null || stamp > newest)) newest = stamp;
  }
  return newest;
}

const laterOf = (a: string | null, b: string | null): string | null => (a === null ? b : b === null ? a : a > b ? a : b);

/**
 * One full read of users and groups with ldapts: paged searches (RFC 2696),
 * `entryUUID` or `objectGUID` as the external id (never the e-mail), the
 * disabled flag from `userAccountControl` (AD) and/or the operator's
 * `disabledFilter`, group members by DN (member, uniqueMember, memberOf),
 * nested groups flattened. Throws on any error: the sync then changes nothing.
 */
export async function readLdap(options: LdapReadOptions, onProgress: (p: LdapReadProgress) => void = () => undefined): Promise<LdapSnapshot> {
  const client = await openLdap(options);
  try {
    const reader = new Reader(client, options, onProgress);
    const cursor = await reader.cursor();
    const users = await reader.users(options.userFilter);
    const groups = await reader.groups(options.groupFilter, users.entries);
    const stamp = laterOf(users.newest, newestStamp(groups.entries));
    // The groups of the newest second: one changed later within that second is told apart by its version.
    const groupsAt = groups.entries.filter((e) => first(e.modifyTimestamp) === stamp).map((e) => reader.versionOf(e));
    return { partial: false, users: users.users, groups: groups.groups, cursor: cursor ?? (stamp ? { kind: 'timestamp', modifyTimestamp: stamp, groupsAt } : null) };
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

/**
 * The users changed since `since`: AD, uSNChanged above the last
 * highestCommittedUSN of the same domain controller; other LDAP,
 * modifyTimestamp at or after the newest one seen (re-reading the last
 * second's entries is harmless). Returns the reason instead when only a full
 * read will do: another domain controller (or a restored one: its
 * invocationId changed), no cursor, or a group changed (memberships are
 * recomputed from all groups).
 */
export async function readLdapChanges(
  options: LdapReadOptions,
  since: LdapCursor | null,
  onProgress: (p: LdapReadProgress) => void = () => undefined,
): Promise<LdapSnapshot | { fullSyncNeeded: string }> {
  if (since === null) return { fullSyncNeeded: 'no earlier sync to continue from' };
  const client = await openLdap(options);
  try {
    const reader = new Reader(client, options, onProgress);
    let changed: string;
    let cursor: LdapCursor | null;
    if (options.flavor === 'active_directory') {
      const now = await reader.cursor();
      if (since.kind !== 'usn' || now === null || now.invocationId !== since.invocationId) return { fullSyncNeeded: 'the domain controller changed (invocationId)' };
      cursor = now;
      changed = `(uSNChanged>=${BigInt(since.usn) + 1n})`;
    } else {
      if (since.kind !== 'timestamp') return { fullSyncNeeded: 'the directory changed flavour' };
      changed = `(modifyTimestamp>=${since.modifyTimestamp})`;
      cursor = since;
    }
    const groups = await reader.search(`(&${options.groupFilter}${changed})`, [idAttribute(options.flavor), 'modifyTimestamp', 'entryCSN']);
    const known = new Set(since.kind === 'timestamp' ? since.groupsAt : []);
    if (groups.some((e) => !known.has(reader.versionOf(e)))) return { fullSyncNeeded: 'a group changed' };
    const users = await reader.users(`(&${options.userFilter}${changed})`);
    if (since.kind === 'timestamp') {
      const stamp = laterOf(since.modifyTimestamp, users.newest)!;
      // No group changed: the groups of the newest second are the ones known, or none when it moved on.
      cursor = { kind: 'timestamp', modifyTimestamp: stamp, groupsAt: stamp === since.modifyTimestamp ? since.groupsAt : [] };
    }
    return { partial: true, users: users.users, groups: [], cursor };
  } finally {
    await client.unbind().catch(() => undefined);
  }
}
