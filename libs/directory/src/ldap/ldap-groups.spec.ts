import { resolveGroups } from './ldap-groups';

const user = (cn: string, memberOf: string[] = []) => ({ dn: `CN=${cn},CN=Users,DC=corp,DC=test`, externalId: `id-${cn}`, memberOf });
const group = (cn: string, memberDns: string[]) => ({ dn: `CN=${cn},OU=Groups,DC=corp,DC=test`, externalId: `gid-${cn}`, displayName: cn, memberDns });
const membersOf = (groups: ReturnType<typeof resolveGroups>, name: string) => groups.find((g) => g.displayName === name)!.memberExternalIds.sort();

describe('resolveGroups (LDAP/AD group membership)', () => {
  it('takes members from the group (member) and from the users (memberOf), once each', () => {
    const groups = resolveGroups(
      [group('ops', ['cn=alice, cn=users,dc=corp,dc=test'])],
      [user('alice', ['CN=ops,OU=Groups,DC=corp,DC=test']), user('bob', ['cn=OPS,ou=groups,dc=corp,dc=test']), user('carol')],
    );
    expect(membersOf(groups, 'ops')).toEqual(['id-alice', 'id-bob']);
  });

  it('flattens nested groups, whichever side names the membership, and survives a cycle', () => {
    const groups = resolveGroups(
      [
        group('all', [group('plant', []).dn]),
        group('plant', [group('night-shift', []).dn, user('dan').dn]),
        // night-shift contains all: a cycle.
        group('night-shift', [group('all', []).dn]),
      ],
      [user('dan'), user('erin', [group('night-shift', []).dn])],
    );
    expect(membersOf(groups, 'all')).toEqual(['id-dan', 'id-erin']);
    expect(membersOf(groups, 'plant')).toEqual(['id-dan', 'id-erin']);
    expect(membersOf(groups, 'night-shift')).toEqual(['id-dan', 'id-erin']);
  });

  it('ignores members that are neither a synced user nor a synced group', () => {
    expect(membersOf(resolveGroups([group('ops', ['CN=Someone Else,CN=Users,DC=corp,DC=test'])], [user('alice')]), 'ops')).toEqual([]);
  });
});
