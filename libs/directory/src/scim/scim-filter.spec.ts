import { ScimError } from '../errors';
import { groupConditions, userConditions } from './scim-filter';

describe('SCIM filters', () => {
  it.each([
    ['userName eq "alice@example.com"', [{ attribute: 'userName', value: 'alice@example.com' }]],
    ['externalId eq "00u1" and emails.value eq "a@x"', [{ attribute: 'externalId', value: '00u1' }, { attribute: 'emails.value', value: 'a@x' }]],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a"', [{ attribute: 'userName', value: 'a' }]],
    ['displayName eq "A" and userName EQ "b" and externalId eq "c"', [{ attribute: 'displayName', value: 'A' }, { attribute: 'userName', value: 'b' }, { attribute: 'externalId', value: 'c' }]],
  ])('%s', (filter, expected) => expect(userConditions(filter)).toEqual(expected));

  it('reads no filter as no condition', () => {
    expect(userConditions(undefined)).toEqual([]);
    expect(groupConditions('displayName eq "Ops"')).toEqual([{ attribute: 'displayName', value: 'Ops' }]);
  });

  it.each(['userName co "a"', 'userName eq "a" or userName eq "b"', 'title eq "x"', 'userName eq', 'active eq true', 'x'.repeat(2000)])('refuses %s as invalidFilter', (filter) => {
    let caught: unknown;
    try {
      userConditions(filter);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ScimError);
    expect((caught as ScimError).scimType).toBe('invalidFilter');
  });
});
