import { scimBody } from '../testing';
import { SCIM_TYPES, ScimError } from '../errors';
import { applyPatch, normalisePatch } from './scim-patch-normalise';
import { SCIM_SCHEMAS, type ScimResource } from './scim-resources';

const user = (): ScimResource => ({
  schemas: [SCIM_SCHEMAS.user],
  id: 'u1',
  userName: 'bob@contoso.com',
  displayName: 'Bob',
  name: { givenName: 'Bob', familyName: 'Jones' },
  emails: [{ type: 'work', value: 'bob@contoso.com', primary: true }],
  active: true,
  meta: { resourceType: 'User' },
});
const group = (...members: string[]): ScimResource => ({
  schemas: [SCIM_SCHEMAS.group],
  id: 'g1',
  displayName: 'Operators',
  members: members.map((value) => ({ value })),
  meta: { resourceType: 'Group' },
});

describe('SCIM PATCH normalisation (Okta and Entra bodies)', () => {
  it.each([
    ['okta', 'deactivate-user', false],
    ['entra', 'disable-user', false],
    ['okta', 'reactivate-user', true],
  ] as const)('%s %s sets active to %s', (idp, name, active) => {
    expect(applyPatch(scimBody(idp, name), user()).active).toBe(active);
  });

  it('applies Entra attribute updates: "Add" on a single value, a filtered e-mail path, dotted and URN keys, "True"', () => {
    const patched = applyPatch(scimBody('entra', 'update-attributes'), { ...user(), active: false });
    expect(patched).toMatchObject({
      displayName: 'Bob J.',
      name: { givenName: 'Robert', familyName: 'Jones' },
      emails: [{ type: 'work', value: 'bob.jones@contoso.com', primary: true }],
      active: true,
    });
  });

  it('adds an e-mail of a type the user does not have yet', () => {
    expect(applyPatch(scimBody('entra', 'add-home-email'), user()).emails).toEqual([
      { type: 'work', value: 'bob@contoso.com', primary: true },
      { type: 'home', value: 'bob@home.example' },
    ]);
  });

  it.each(['okta', 'entra'] as const)('adds and removes %s group members', (idp) => {
    const added = applyPatch(scimBody(idp, 'add-member', { userId: 'u2' }), group('u1'));
    expect(added.members).toEqual([{ value: 'u1' }, expect.objectContaining({ value: 'u2' })]);
    expect(applyPatch(scimBody(idp, 'remove-member', { userId: 'u1' }), added).members).toEqual([expect.objectContaining({ value: 'u2' })]);
  });

  it('renames an Okta group with a path-less replace', () => {
    expect(applyPatch(scimBody('okta', 'rename-group', { groupId: 'g1' }), group('u1'))).toMatchObject({ displayName: 'Field engineers EU', members: [{ value: 'u1' }] });
  });

  it('keeps "True" a string where the attribute is not a boolean', () => {
    const ops = normalisePatch({ schemas: [SCIM_SCHEMAS.patchOp], Operations: [{ op: 'REPLACE', path: 'displayName', value: 'True' }] }, user());
    expect(ops).toEqual([{ op: 'replace', path: 'displayName', value: 'True' }]);
  });

  it.each([
    [{ Operations: [{ op: 'replace', value: {} }] }, SCIM_TYPES.invalidSyntax],
    [{ schemas: [SCIM_SCHEMAS.patchOp], Operations: [] }, SCIM_TYPES.invalidSyntax],
    [{ schemas: [SCIM_SCHEMAS.patchOp], Operations: [{ op: 'copy', path: 'x' }] }, SCIM_TYPES.invalidSyntax],
    [{ schemas: [SCIM_SCHEMAS.patchOp], Operations: [{ op: 'remove' }] }, SCIM_TYPES.noTarget],
    [{ schemas: [SCIM_SCHEMAS.patchOp], Operations: [{ op: 'replace', value: 'x' }] }, SCIM_TYPES.invalidSyntax],
  ])('refuses %j with scimType %s', (body, scimType) => {
    let caught: unknown;
    try {
      applyPatch(body, user());
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ScimError);
    expect((caught as ScimError).scimType).toBe(scimType);
    expect((caught as ScimError).status).toBe(400);
  });
});
