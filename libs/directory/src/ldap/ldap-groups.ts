import type { LdapSnapshotGroup } from './ldap-snapshot';
import { normaliseDn } from './ldap-escape';

export interface GroupEntry {
  dn: string;
  externalId: string;
  displayName: string;
  /** member / uniqueMember values: users or other groups. */
  memberDns: string[];
}

export interface UserEntry {
  dn: string;
  externalId: string;
  /** The groups the user is a direct member of, as the directory keeps them on the user (AD, OpenLDAP's memberof overlay). */
  memberOf: string[];
}

/**
 * Each group's users, from both sides of the membership (the group's `member`
 * values and the users' `memberOf`; AD keeps the latter for every group,
 * however large), and through nested groups: a member of a group that is a
 * member of another is a member of both. A cycle is visited once. DNs are
 * compared as the server would (case, spacing around separators).
 */
export function resolveGroups(groups: readonly GroupEntry[], users: readonly UserEntry[]): LdapSnapshotGroup[] {
  const userByDn = new Map(users.map((u) => [normaliseDn(u.dn), u.externalId]));
  const byDn = new Map(groups.map((g) => [normaliseDn(g.dn), { ...g, memberDns: g.memberDns.map(normaliseDn) }]));
  for (const u of users) {
    for (const g of u.memberOf) byDn.get(normaliseDn(g))?.memberDns.push(normaliseDn(u.dn));
  }
  const membersOf = (group: { memberDns: string[] }): string[] => {
    const found = new Set<string>();
    const seen = new Set<object>([group]);
    const visit = (dns: string[]) => {
      for (const dn of dns) {
        const user = userByDn.get(dn);
        if (user) found.add(user);
        const nested = byDn.get(dn);
        if (nested && !seen.has(nested)) {
          seen.add(nested);
          visit(nested.memberDns);
        }
      }
    };
    visit(group.memberDns);
    return [...found];
  };
  return [...byDn.values()].map((g) => ({ externalId: g.externalId, displayName: g.displayName, memberExternalIds: membersOf(g) }));
}
