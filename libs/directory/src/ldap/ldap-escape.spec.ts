import { escapeDnValue, escapeFilterValue, normaliseDn } from './ldap-escape';
import { checkLdapConnection } from './ldap-policy';

describe('LDAP escaping', () => {
  it.each([
    ['alice', 'alice'],
    ['*', '\\2a'],
    ['a(b)c', 'a\\28b\\29c'],
    ['back\\slash', 'back\\5cslash'],
    ['nul\u0000', 'nul\\00'],
    ['*)(uid=*))(|(uid=*', '\\2a\\29\\28uid=\\2a\\29\\29\\28|\\28uid=\\2a'],
  ])('RFC 4515 filter value %j → %j', (value, escaped) => expect(escapeFilterValue(value)).toBe(escaped));

  it.each([
    ['Smith, John', 'Smith\\, John'],
    ['a+b', 'a\\+b'],
    ['"quoted"', '\\"quoted\\"'],
    ['#hash', '\\#hash'],
    [' lead', '\\ lead'],
    ['trail ', 'trail\\ '],
    ['x<y>;z=w', 'x\\<y\\>\\;z\\=w'],
  ])('RFC 4514 DN value %j → %j', (value, escaped) => expect(escapeDnValue(value)).toBe(escaped));

  it('compares DNs without case or spacing around separators', () => {
    expect(normaliseDn('UID=alice, ou=People ,dc=example,dc=org')).toBe(normaliseDn('uid=alice,ou=people,dc=example,dc=org'));
  });
});

describe('LDAP connection policy', () => {
  const ok = { url: 'ldaps://ldap.example.com', bindDn: 'cn=sync,dc=example,dc=com', bindPassword: 'secret', starttls: false, maxDisableShare: 0.2 };
  const codeOf = (c: typeof ok, allowPlain = false) => {
    try {
      checkLdapConnection(c, allowPlain);
      return null;
    } catch (err) {
      return (err as { code: string }).code;
    }
  };
  it('accepts ldaps://, ldap:// with StartTLS, and plain ldap:// only when the operator allows it', () => {
    expect(codeOf(ok)).toBeNull();
    expect(codeOf({ ...ok, url: 'ldap://ldap.example.com', starttls: true })).toBeNull();
    expect(codeOf({ ...ok, url: 'ldaps://ldap.example.com', starttls: true })).toBe('invalid_ldap_connection');
    expect(codeOf({ ...ok, url: 'ldap://ldap.example.com' })).toBe('invalid_ldap_connection');
    expect(codeOf({ ...ok, url: 'ldap://ldap.example.com' }, true)).toBeNull();
  });
  it('refuses an empty password (an anonymous bind), a bad URL or share', () => {
    expect(codeOf({ ...ok, bindPassword: '' })).toBe('ldap_empty_password');
    expect(codeOf({ ...ok, url: 'http://x' })).toBe('invalid_ldap_connection');
    expect(codeOf({ ...ok, maxDisableShare: 2 })).toBe('invalid_ldap_connection');
  });
});
