import { allowingGrant, PermissionSet } from './permission-set';
import { templateCovered } from './coverage';
import { expandTemplate, templateProblem } from './placeholders';

describe('permission templates', () => {
  it.each([
    ['users/{user_id}/#', null],
    ['orgs/{org_id}/clients/{client_id}/+', null],
    ['users/{user}/#', 'unknown placeholder {user}'],
    ['users/x{user_id}/#', 'a placeholder must fill a whole topic level'],
    ['users/{user_id/#', 'unbalanced placeholder braces'],
    ['users/#/x', 'invalid topic filter (misplaced_multi_level_wildcard)'],
  ])('%s → %s', (template, problem) => expect(templateProblem(template)).toBe(problem));

  it('fills placeholders', () => {
    expect(expandTemplate('users/{user_id}/{client_id}/#', { user_id: 'u1', client_id: 'c1' })).toBe('users/u1/c1/#');
  });

  it.each(['a/b', 'a+', '#', '$SYS', '', undefined])('drops a rule whose value %j could widen it', (value) => {
    expect(expandTemplate('users/{client_id}/x', { client_id: value })).toBeNull();
  });
});

describe('PermissionSet', () => {
  const templates = { publish: ['users/{user_id}/#', 'chat/{client_id}/out'], subscribe: ['users/{user_id}/+', 'broadcast/#'] };
  const values = { user_id: 'alice', org_id: 'org_aaaaaaaaaaaa', client_id: 'a/b' };
  const set = PermissionSet.fromTemplates(templates, values);

  it('allows publishing inside its grants only', () => {
    expect(set.canPublish('users/alice/x')).toBe(true);
    expect(set.canPublish('users/alice/x')).toBe(true); // cached verdict
    expect(set.canPublish('users/bob/x')).toBe(false);
    expect(set.canPublish('users/alice')).toBe(true);
  });

  it('dropped the rule whose client id was unsafe', () => {
    expect(set.granted.publish).toEqual(['users/alice/#']);
  });

  it('allows subscriptions covered by a grant', () => {
    expect(set.canSubscribe('users/alice/+')).toBe(true);
    expect(set.canSubscribe('users/alice/#')).toBe(false);
    expect(set.canSubscribe('broadcast/news/#')).toBe(true);
    expect(set.canSubscribe('#')).toBe(false);
  });

  it('names the grant that allows a topic or filter (signet acl check), null when none does', () => {
    expect(allowingGrant(templates, values, 'publish', 'users/alice/x')).toEqual({ rule: 'users/{user_id}/#', filled: 'users/alice/#' });
    expect(allowingGrant(templates, values, 'publish', 'users/bob/x')).toBeNull();
    expect(allowingGrant(templates, values, 'subscribe', 'broadcast/news/#')).toEqual({ rule: 'broadcast/#', filled: 'broadcast/#' });
    expect(allowingGrant(templates, values, 'subscribe', 'users/alice/#')).toBeNull();
  });

  it('full access never reaches $-topics', () => {
    const all = PermissionSet.all();
    expect(all.canPublish('anything')).toBe(true);
    expect(all.canSubscribe('#')).toBe(true);
    expect(all.canSubscribe('$SYS/#')).toBe(false);
  });
});

describe('templateCovered', () => {
  const org = 'org_aaaaaaaaaaaa';
  it('treats requested placeholders as single-level wildcards', () => {
    expect(templateCovered(['users/#'], 'users/{user_id}/#', org)).toBe(true);
    expect(templateCovered(['users/+/#'], 'users/{user_id}/inbox', org)).toBe(true);
    expect(templateCovered(['users/alice/#'], 'users/{user_id}/#', org)).toBe(false);
    expect(templateCovered(['users/#'], '#', org)).toBe(false);
    expect(templateCovered(['#'], 'anything/+/x', org)).toBe(true);
  });
  it("never lets a granted placeholder cover someone else's value", () => {
    expect(templateCovered(['svc/{user_id}/#'], 'svc/{user_id}/#', org)).toBe(false);
    expect(templateCovered(['svc/{user_id}/#'], 'svc/+/#', org)).toBe(false);
    expect(templateCovered(['orgs/{org_id}/#'], 'orgs/{org_id}/x', org)).toBe(true);
    expect(templateCovered(['orgs/{org_id}/#'], `orgs/${org}/x`, org)).toBe(true);
  });
  it('keeps $-topics out of reach of wildcards', () => {
    expect(templateCovered(['#'], '$SYS/x', org)).toBe(false);
    expect(templateCovered(['+/x'], '{user_id}/x', org)).toBe(true);
  });
});
