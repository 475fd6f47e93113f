import { ProblemError } from '@signet/http';

import { DirectoryIssuanceGate } from './directory-issuance-gate';
import { DIRECTORY_ERRORS } from './errors';
import { InMemoryDirectoryRepository } from './testing';

const ORG = 'org_aaaaaaaaaaaa';
const DEFAULT = { publish: ['users/{user_id}/#'], subscribe: ['users/{user_id}/#'] };

async function codeOf(work: Promise<unknown>): Promise<string> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ProblemError)) throw new Error(`expected a ProblemError, got ${String(err)}`);
  return err.code;
}

describe('DirectoryIssuanceGate', () => {
  let repo: InMemoryDirectoryRepository;
  let gate: DirectoryIssuanceGate;

  beforeEach(async () => {
    repo = new InMemoryDirectoryRepository();
    gate = new DirectoryIssuanceGate(repo);
  });

  const directoryWithAlice = async () => {
    await repo.setScimToken(ORG, 'hash');
    const alice = await repo.createUser(ORG, 'u1', { externalId: null, userName: 'alice', displayName: null, name: null, emails: [], active: true });
    const ops = await repo.createGroup(ORG, 'g1', { externalId: null, displayName: 'ops', memberIds: [alice.id] });
    const eng = await repo.createGroup(ORG, 'g2', { externalId: null, displayName: 'eng', memberIds: [alice.id] });
    await repo.setGroupPermissions(ORG, ops.id, { publish: ['devices/{user_id}/#'], subscribe: ['fleet/#'] });
    await repo.setGroupPermissions(ORG, eng.id, { publish: [], subscribe: ['builds/+'] });
    return alice;
  };

  it('passes the request through in an org without a directory', async () => {
    expect(await gate.permissionsFor(ORG, 'anyone', DEFAULT, false)).toEqual(DEFAULT);
  });

  it('asks once for an org without a directory, and again once told the org connected one', async () => {
    let asked = 0;
    const access = repo.access.bind(repo);
    repo.access = (orgId, userName) => (asked++, access(orgId, userName));
    await gate.permissionsFor(ORG, 'anyone', DEFAULT, false);
    await gate.permissionsFor(ORG, 'anyone', DEFAULT, false);
    expect(asked).toBe(1);
    await directoryWithAlice();
    gate.forget(ORG);
    expect(await codeOf(gate.permissionsFor(ORG, 'bob', DEFAULT, false))).toBe(DIRECTORY_ERRORS.userUnknown);
    expect(asked).toBe(2);
  });

  it("grants the union of the user's groups when the request names no permissions", async () => {
    await directoryWithAlice();
    expect(await gate.permissionsFor(ORG, 'alice', DEFAULT, false)).toEqual({ publish: ['devices/{user_id}/#'], subscribe: ['fleet/#', 'builds/+'] });
  });

  it('lets a request narrow, never widen', async () => {
    await directoryWithAlice();
    const narrow = { publish: ['devices/{user_id}/telemetry'], subscribe: ['fleet/eu/#'] };
    expect(await gate.permissionsFor(ORG, 'alice', narrow, true)).toEqual(narrow);
    expect(await codeOf(gate.permissionsFor(ORG, 'alice', { publish: ['devices/#'], subscribe: [] }, true))).toBe(DIRECTORY_ERRORS.permissionExceeded);
    // The default (users/{user_id}/#) is not what the groups grant.
    expect(await codeOf(gate.permissionsFor(ORG, 'alice', DEFAULT, true))).toBe(DIRECTORY_ERRORS.permissionExceeded);
  });

  it('refuses deactivated users, users without groups, and unknown users unless the org allows them', async () => {
    const alice = await directoryWithAlice();
    await repo.updateUser(ORG, alice.id, { externalId: null, userName: 'alice', displayName: null, name: null, emails: [], active: false });
    expect(await codeOf(gate.permissionsFor(ORG, 'alice', DEFAULT, false))).toBe(DIRECTORY_ERRORS.userDisabled);
    await repo.createUser(ORG, 'u2', { externalId: null, userName: 'bob', displayName: null, name: null, emails: [], active: true });
    expect(await codeOf(gate.permissionsFor(ORG, 'bob', DEFAULT, false))).toBe(DIRECTORY_ERRORS.userWithoutAccess);
    expect(await codeOf(gate.permissionsFor(ORG, 'carol', DEFAULT, false))).toBe(DIRECTORY_ERRORS.userUnknown);
    // Another spelling of a directory user is not that user: their tokens are revoked by exact user id.
    expect(await codeOf(gate.permissionsFor(ORG, 'BOB', DEFAULT, false))).toBe(DIRECTORY_ERRORS.userUnknown);
    await repo.setUnknownUsers(ORG, 'allow');
    expect(await gate.permissionsFor(ORG, 'carol', DEFAULT, false)).toEqual(DEFAULT);
  });
});
