import { DEFAULT_PERMISSIONS } from '@signet/permissions';

import { idpUrlProblem } from './verification/fetch';
import { claimAt, mapPermissions, rolesFrom } from './roles';

describe('claimAt', () => {
  const claims = {
    sub: 'u1',
    app_metadata: { roles: ['admin'], nested: { deep: 'x' } },
    'https://example.com/roles': ['operator'],
    'https://example.com/app': { roles: 'viewer' },
    o: { rol: 'admin' },
  };

  it.each([
    ['sub', 'u1'],
    ['app_metadata.roles', ['admin']],
    ['app_metadata.nested.deep', 'x'],
    ['https://example.com/roles', ['operator']],
    ['https://example.com/app.roles', 'viewer'],
    ['o.rol', 'admin'],
    ['missing', undefined],
    ['app_metadata.missing', undefined],
  ])('%s', (path, expected) => {
    expect(claimAt(claims, path)).toEqual(expected);
  });

  it('reads own properties only', () => {
    expect(claimAt(claims, '__proto__')).toBeUndefined();
    expect(claimAt(claims, 'constructor')).toBeUndefined();
    expect(claimAt(claims, 'sub.length')).toBeUndefined();
  });
});

describe('rolesFrom and mapPermissions', () => {
  it('accepts a string or a list of strings, nothing else', () => {
    expect(rolesFrom('admin')).toEqual(['admin']);
    expect(rolesFrom(['a', 1, 'b', null])).toEqual(['a', 'b']);
    expect(rolesFrom({ admin: true })).toEqual([]);
    expect(rolesFrom(undefined)).toEqual([]);
  });

  it('adds what mapped roles grant to the defaults; unmapped roles add nothing', () => {
    const mapping = {
      user_id_claim: 'sub',
      role_claim: 'roles',
      role_permissions: { admin: { publish: ['admin/#'], subscribe: [] }, toString: { publish: ['x'], subscribe: [] } },
    };
    expect(mapPermissions(mapping, { roles: ['admin', 'guest'] })).toEqual({
      permissions: { publish: [...DEFAULT_PERMISSIONS.publish, 'admin/#'], subscribe: [...DEFAULT_PERMISSIONS.subscribe] },
      roles: ['admin'],
    });
    expect(mapPermissions(mapping, { roles: 'guest' }).permissions).toEqual({ ...DEFAULT_PERMISSIONS });
    expect(mapPermissions({ ...mapping, permissions: { publish: [], subscribe: [] } }, {}).permissions).toEqual({ publish: [], subscribe: [] });
  });
});

describe('idpUrlProblem', () => {
  it.each([
    ['https://example.com', null],
    ['http://127.0.0.1:8080/x', null],
    ['http://localhost:9999', null],
    ['http://[::1]:9999', null],
    ['http://example.com', 'must use https'],
    ['http://10.0.0.1', 'must use https'],
    ['https://user:pw@example.com', 'must not contain credentials'],
    ['file:///etc/passwd', 'must use https'],
    ['not a url', 'must be an absolute URL'],
  ])('%s', (url, problem) => {
    const found = idpUrlProblem(url);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toContain(problem);
  });
});
