import { allowingRule } from './acl-policy';

const perms = { publish: ['devices/{user_id}/#', 'public/+'], subscribe: ['devices/{user_id}/#', 'clients/{client_id}/in'] };
const values = { user_id: 'u1', org_id: 'org_x', client_id: 'c1' };

describe('allowingRule', () => {
  it('names the first template that allows a publish', () => {
    expect(allowingRule(perms, values, 'publish', 'devices/u1/temp')).toBe('devices/{user_id}/#');
    expect(allowingRule(perms, values, 'publish', 'public/news')).toBe('public/+');
  });

  it('denies what no template matches, another user included', () => {
    expect(allowingRule(perms, values, 'publish', 'devices/u2/temp')).toBeNull();
    expect(allowingRule(perms, values, 'publish', 'public/a/b')).toBeNull();
  });

  it('allows a subscription only when a template covers every topic of its filter', () => {
    expect(allowingRule(perms, values, 'subscribe', 'devices/u1/+')).toBe('devices/{user_id}/#');
    expect(allowingRule(perms, values, 'subscribe', 'devices/#')).toBeNull();
    expect(allowingRule(perms, values, 'subscribe', 'clients/c1/in')).toBe('clients/{client_id}/in');
  });

  it('drops a rule whose placeholder has no value, failing closed', () => {
    expect(allowingRule(perms, { user_id: 'u1', org_id: 'org_x' }, 'subscribe', 'clients/c1/in')).toBeNull();
  });

  it('never lets a wildcard reach a $-topic', () => {
    expect(allowingRule({ publish: ['#'], subscribe: ['#'] }, values, 'publish', '$SYS/x')).toBeNull();
  });
});
