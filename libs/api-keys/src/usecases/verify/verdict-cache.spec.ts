import type { ApiKeyPrincipal } from '../../principal';
import { Verdict, VerdictCache } from './verdict-cache';

const principal = (keyId: string): ApiKeyPrincipal => ({
  keyId,
  orgId: 'org_aaaaaaaaaaaa',
  name: 'svc',
  type: 'secret',
  scopes: [],
  ipAllowlist: [],
  expiresAt: null,
  willOnRevoke: 'suppress',
});
const verdict = (keyId: string, expiresAt: number): Verdict => ({ principal: principal(keyId), keyId, allows: null, expiresAt });

describe('VerdictCache', () => {
  it('trusts a verdict until its expiresAt', () => {
    const cache = new VerdictCache();
    const now = Date.now();
    cache.set('h1', verdict('k1', now + 1000), now);
    expect(cache.get('h1', now + 999)?.keyId).toBe('k1');
    expect(cache.get('h1', now + 1000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('drops every verdict of a key id at once, and only those', () => {
    const cache = new VerdictCache();
    const now = Date.now();
    cache.set('a', verdict('k1', now + 60_000), now);
    cache.set('b', verdict('k1', now + 60_000), now);
    cache.set('c', verdict('k2', now + 60_000), now);
    expect(cache.invalidateKey('k1')).toBe(2);
    expect(cache.get('a', now)).toBeUndefined();
    expect(cache.get('c', now)?.keyId).toBe('k2');
    expect(cache.invalidateKey('k1')).toBe(0);
  });

  it('stays within its bound, and the index follows evictions and replacements', () => {
    const cache = new VerdictCache(2);
    const now = Date.now();
    cache.set('a', verdict('k1', now + 60_000), now);
    cache.set('b', verdict('k2', now + 60_000), now);
    cache.set('c', verdict('k3', now + 60_000), now);
    expect(cache.size).toBe(2);
    expect(cache.get('a', now)).toBeUndefined();
    expect(cache.invalidateKey('k1')).toBe(0);
    cache.set('b', verdict('k4', now + 60_000), now);
    expect(cache.invalidateKey('k2')).toBe(0);
    expect(cache.invalidateKey('k4')).toBe(1);
  });
});
