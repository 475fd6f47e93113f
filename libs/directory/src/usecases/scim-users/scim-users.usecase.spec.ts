import { ScimError } from '../../errors';
import { InMemoryDirectoryRepository, RecordingDeprovisioner, scimBody } from '../../testing';
import { ScimGroupsUseCase } from '../scim-groups/scim-groups.usecase';
import { ScimUsersUseCase } from './scim-users.usecase';

const ORG = 'org_aaaaaaaaaaaa';
const base = { orgId: ORG, baseUrl: 'https://signet.test/scim/v2' };

async function scimErrorOf(work: Promise<unknown>): Promise<ScimError> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ScimError)) throw new Error(`expected a ScimError, got ${String(err)}`);
  return err;
}

describe('ScimUsersUseCase and ScimGroupsUseCase (in-memory directory)', () => {
  let repo: InMemoryDirectoryRepository;
  let deprovisioner: RecordingDeprovisioner;
  let users: ScimUsersUseCase;
  let groups: ScimGroupsUseCase;

  beforeEach(() => {
    repo = new InMemoryDirectoryRepository();
    deprovisioner = new RecordingDeprovisioner();
    users = new ScimUsersUseCase(repo, { scimMaxResults: 2, ldapSyncIntervalMs: 0, ldapFullSyncIntervalMs: 0, ldapAllowPlain: false }, deprovisioner);
    groups = new ScimGroupsUseCase(repo, { scimMaxResults: 2, ldapSyncIntervalMs: 0, ldapFullSyncIntervalMs: 0, ldapAllowPlain: false }, deprovisioner);
  });

  it('deprovisions a user deactivated the Okta way, and not one merely renamed in display', async () => {
    const { id } = (await users.create({ ...base, body: scimBody('okta', 'create-user') })) as { id: string };
    await users.patch({ ...base, id, body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'displayName', value: 'A' }] } });
    expect(deprovisioner.revoked).toEqual([[]]);
    const patched = await users.patch({ ...base, id, body: scimBody('okta', 'deactivate-user') });
    expect(patched.active).toBe(false);
    expect(deprovisioner.revoked.at(-1)).toEqual(['alice@example.com']);
  });

  it("revokes the former userName's tokens on a rename", async () => {
    const created = await users.create({ ...base, body: scimBody('okta', 'create-user') });
    await users.replace({ ...base, id: created.id as string, body: { ...created, userName: 'alice2@example.com' } });
    expect(deprovisioner.revoked).toEqual([['alice@example.com']]);
  });

  it('answers 409 uniqueness, 412 on a stale If-Match, 404 for other orgs, and pages lists', async () => {
    const created = await users.create({ ...base, body: scimBody('okta', 'create-user') });
    expect((await scimErrorOf(users.create({ ...base, body: { ...scimBody('okta', 'create-user'), userName: 'ALICE@example.com' } }))).scimType).toBe('uniqueness');
    expect((await scimErrorOf(users.replace({ ...base, id: created.id as string, body: created, ifMatch: 'W/"7"' }))).status).toBe(412);
    expect((await scimErrorOf(users.get({ ...base, orgId: 'org_bbbbbbbbbbbb', id: created.id as string }))).status).toBe(404);
    for (const n of [1, 2]) await users.create({ ...base, body: { ...scimBody('entra', 'create-user'), userName: `u${n}@contoso.com` } });
    const page = await users.list({ ...base, startIndex: '2' });
    expect(page).toMatchObject({ totalResults: 3, startIndex: 2, itemsPerPage: 2 });
  });

  it('deprovisions members who leave a group or whose group is deleted', async () => {
    const alice = await users.create({ ...base, body: scimBody('okta', 'create-user') });
    const bob = await users.create({ ...base, body: scimBody('entra', 'create-user') });
    const group = await groups.create({ ...base, body: { ...scimBody('okta', 'create-group'), members: [{ value: alice.id }, { value: bob.id }] } });
    await groups.patch({ ...base, id: group.id as string, body: scimBody('entra', 'remove-member', { userId: bob.id as string }) });
    expect(deprovisioner.revoked).toEqual([['bob@contoso.com']]);
    await groups.delete({ ...base, id: group.id as string });
    expect(deprovisioner.revoked.at(-1)).toEqual(['alice@example.com']);
  });
});
