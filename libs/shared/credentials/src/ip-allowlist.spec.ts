import { compileAllowlist } from './ip-allowlist';

describe('compileAllowlist', () => {
  it('allows everyone for an empty list', () => {
    expect(compileAllowlist([])).toBeNull();
  });

  it('matches addresses and CIDR blocks of both families', () => {
    const allows = compileAllowlist(['203.0.113.7', '10.0.0.0/8', '2001:db8::/32']);
    expect(allows?.('203.0.113.7')).toBe(true);
    expect(allows?.('10.255.0.1')).toBe(true);
    expect(allows?.('::ffff:10.0.0.1')).toBe(true);
    expect(allows?.('2001:db8:1::5')).toBe(true);
    expect(allows?.('203.0.113.8')).toBe(false);
    expect(allows?.('2001:db9::1')).toBe(false);
    expect(allows?.('not an ip')).toBe(false);
  });

  it('fails closed on a list of only bad entries', () => {
    const allows = compileAllowlist(['nonsense', '10.0.0.0/99']);
    expect(allows?.('10.0.0.1')).toBe(false);
  });
});
