import { allowlistProblem, cidrCovered, compileAllowlist, parseCidr } from './ip-allowlist';

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

  it('treats IPv4-mapped IPv6 blocks as IPv4 blocks', () => {
    const allows = compileAllowlist(['::ffff:192.168.0.0/112']);
    expect(allows?.('192.168.3.4')).toBe(true);
    expect(allows?.('::ffff:192.168.3.4')).toBe(true);
    expect(allows?.('::ffff:c0a8:0304')).toBe(true);
    expect(allows?.('192.169.0.1')).toBe(false);
    expect(compileAllowlist(['::1'])?.('::1')).toBe(true);
    expect(compileAllowlist(['::1'])?.('127.0.0.1')).toBe(false);
  });

  it('fails closed on a list of only bad entries', () => {
    const allows = compileAllowlist(['nonsense', '10.0.0.0/99']);
    expect(allows?.('10.0.0.1')).toBe(false);
  });
});

describe('parseCidr / allowlistProblem', () => {
  it.each(['10.0.0.0/8', '10.1.2.3/8', '0.0.0.0/0', '::/0', '2001:db8::/32', 'fe80::1', '::ffff:10.0.0.0/104', '1.2.3.4'])('accepts %s', (e) => {
    expect(parseCidr(e)).not.toBeNull();
  });
  it.each(['', ' 10.0.0.0/8', '10.0.0.0/33', '10.0.0.0/', '10.0.0.0/08', '10.0.0/8', '2001:db8::/129', 'fe80::1%eth0', 'example.com', '10.0.0.0/8/8', '256.0.0.1'])(
    'refuses %j',
    (e) => {
      expect(parseCidr(e)).toBeNull();
      expect(allowlistProblem([e])).not.toBeNull();
    },
  );
  it('refuses non-strings and too many entries', () => {
    expect(allowlistProblem([42])).not.toBeNull();
    expect(allowlistProblem(Array.from({ length: 101 }, () => '10.0.0.1'))).toMatch(/at most/);
    expect(allowlistProblem(['10.0.0.0/8', '::1'])).toBeNull();
  });
});

describe('cidrCovered', () => {
  it('is true only for blocks inside one of the outer blocks', () => {
    expect(cidrCovered(['10.0.0.0/8'], '10.1.0.0/16')).toBe(true);
    expect(cidrCovered(['10.0.0.0/8'], '10.1.2.3')).toBe(true);
    expect(cidrCovered(['10.0.0.0/8'], '::ffff:10.1.0.0/112')).toBe(true);
    expect(cidrCovered(['10.0.0.0/16'], '10.0.0.0/8')).toBe(false);
    expect(cidrCovered(['10.0.0.0/8'], '11.0.0.0/8')).toBe(false);
    expect(cidrCovered(['2001:db8::/32'], '2001:db8:1::/48')).toBe(true);
    expect(cidrCovered(['2001:db8::/32'], '10.0.0.1')).toBe(false);
  });
});
