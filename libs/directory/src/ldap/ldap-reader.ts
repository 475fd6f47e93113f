import { Client, type Entry } from 'ldapts';

import type { LdapSnapshot } from './ldap-snapshot';
import { normaliseDn } from './ldap-escape';

/** Where and how to read (the bind password already opened). */
export interface LdapReadOptions {
  url: string;
  bindDn: string;
  bindPassword: string;
  baseDn: string;
  userFilter: string;
  groupFilter: string;
  disabledFilter: string | null;
  userNameAttribute: string;
  tlsCa: string | null;
}

/** Entries per page; servers commonly cap a page (and an unpaged search) at 500 or 1,000. */
export const LDAP_PAGE_SIZE = 200;
const TIMEOUT_MS = 15_000;

const first = (v: Entry[string] | undefined): string | null => {
  const x = Array.isArray(v) ? v[0] : v;
  return x === undefined ? null : Buffer.isBuffer(x) ? x.toString('utf8') : String(x);
};
const all = (v: Entry[string] | undefined): string[] => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x))));

/**
 * One full read of users and groups with ldapts: paged searches (RFC 2696),
 * `entryUUID` as the external id (never the e-mail), the disabled flag from
 * the operator's `disabledFilter`, group members by DN. Throws on any error:
 * the sync then changes nothing.
 */
export async function readLdap(options: LdapReadOptions): Promise<LdapSnapshot> {
  const client = new Client({
    url: options.url,
    timeout: TIMEOUT_MS,
    connectTimeout: TIMEOUT_MS,
    ...(options.tlsCa ? { tlsOptions: { ca: [options.tlsCa] } } : {}),
  });
  try {
    await client.bind(options.bindDn, options.bindPassword);
    const search = async (filter: string, attributes: string[]) =>
      (await client.search(options.baseDn, { scope: 'sub', filter, attributes, paged: { pageSize: LDAP_PAGE_SIZE } })).searchEntries;
    const users = await search(options.userFilter, ['entryUUID', options.userNameAttribute, 'mail', 'displayName', 'cn']);
    const disabled = options.disabledFilter ? new Set((await search(`(&${options.userFilter}${options.disabledFilter})`, ['entryUUID'])).map((e) => first(e.entryUUID))) : new Set();
    const groups = await search(options.groupFilter, ['entryUUID', 'cn', 'member', 'uniqueMember']);
    const uuidOfDn = new Map(users.map((e) => [normaliseDn(e.dn), first(e.entryUUID)]));
    return {
      users: users
        .filter((e) => first(e.entryUUID) !== null && first(e[options.userNameAttribute]) !== null)
        .map((e) => ({
          externalId: first(e.entryUUID)!,
          userName: first(e[options.userNameAttribute])!,
          displayName: first(e.displayName) ?? first(e.cn),
          email: first(e.mail),
          active: !disabled.has(first(e.entryUUID)),
        })),
      groups: groups
        .filter((e) => first(e.entryUUID) !== null)
        .map((e) => ({
          externalId: first(e.entryUUID)!,
          displayName: first(e.cn) ?? e.dn,
          memberExternalIds: [...all(e.member), ...all(e.uniqueMember)].map((dn) => uuidOfDn.get(normaliseDn(dn))).filter((x): x is string => typeof x === 'string'),
        })),
    };
  } finally {
    await client.unbind().catch(() => undefined);
  }
}
