import { check } from './acl';
import { keyValues } from './idp';

describe('acl check: which grant allows a topic, filled as the edge fills it', () => {
  const grants = {
    tokenId: 'tok_1',
    userId: 'alice',
    orgId: 'org_aaaaaaaaaaaa',
    clientId: null,
    permissions: { publish: ['users/{user_id}/#', 'orgs/{org_id}/in', 'pumps/{client_id}/state'], subscribe: ['users/{user_id}/+', 'broadcast/#'] },
  };

  it('names the grant as written and as filled', () => {
    expect(check(grants, 'publish', 'users/alice/x', undefined)).toEqual({ token_id: 'tok_1', allowed: true, rule: 'users/{user_id}/#', filled: 'users/alice/#' });
    expect(check(grants, 'publish', 'orgs/org_aaaaaaaaaaaa/in', undefined)).toMatchObject({ allowed: true, rule: 'orgs/{org_id}/in' });
    expect(check(grants, 'subscribe', 'broadcast/news/#', undefined)).toMatchObject({ allowed: true, rule: 'broadcast/#', filled: 'broadcast/#' });
  });

  it('denies what no grant covers, as the edge would', () => {
    expect(check(grants, 'publish', 'users/bob/x', undefined)).toEqual({ token_id: 'tok_1', allowed: false, rule: null, filled: null });
    expect(check(grants, 'subscribe', 'users/alice/#', undefined).allowed).toBe(false);
    expect(check(grants, 'subscribe', '$SYS/#', undefined).allowed).toBe(false);
  });

  it('fills {client_id} from --client-id or the token binding; without one such grants allow nothing', () => {
    expect(check(grants, 'publish', 'pumps/p1/state', undefined).allowed).toBe(false);
    expect(check(grants, 'publish', 'pumps/p1/state', 'p1')).toMatchObject({ allowed: true, rule: 'pumps/{client_id}/state' });
    expect(check({ ...grants, clientId: 'p2' }, 'publish', 'pumps/p2/state', undefined).allowed).toBe(true);
  });
});

describe('key=value settings', () => {
  it('reads JSON values as such and anything else as a string', () => {
    expect(keyValues(['a=1', 'b=true', 'c=["x"]', 'url=https://x.example/a=b', 'e='])).toEqual({ a: 1, b: true, c: ['x'], url: 'https://x.example/a=b', e: '' });
  });

  it('refuses a pair without a key (exit 2)', () => {
    expect(() => keyValues(['=x'])).toThrow(expect.objectContaining({ exitCode: 2 }));
    expect(() => keyValues(['novalue'])).toThrow(expect.objectContaining({ exitCode: 2 }));
  });
});
