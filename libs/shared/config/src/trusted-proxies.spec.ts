import { loadConfig } from './config';
import { ConfigError } from './env';

const VARIABLE = 'SIGNET_TRUSTED_PROXIES';
const trusted = (value: string | undefined): string[] => loadConfig({ [VARIABLE]: value }).proxy.trustedProxies;

/** The ConfigError loadConfig throws for the value. */
function refusal(value: string): ConfigError {
  try {
    trusted(value);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${VARIABLE}=${value}`);
}

describe('SIGNET_TRUSTED_PROXIES', () => {
  it('trusts no one by default (unset, empty or blank)', () => {
    expect(loadConfig({}).proxy).toEqual({ trustedProxies: [] });
    expect(trusted('')).toEqual([]);
    expect(trusted('  ')).toEqual([]);
    expect(trusted(' , ')).toEqual([]);
  });

  it('reads IPv4 and IPv6 addresses and CIDR blocks, trimmed, in order; empty entries skipped', () => {
    expect(trusted(' 10.0.0.0/8, 192.168.1.10 ,fd00::/8,, 2001:db8::1,::1/128, ::ffff:10.0.0.0/104,')).toEqual([
      '10.0.0.0/8',
      '192.168.1.10',
      'fd00::/8',
      '2001:db8::1',
      '::1/128',
      '::ffff:10.0.0.0/104',
    ]);
    expect(trusted('127.0.0.1/32')).toEqual(['127.0.0.1/32']);
    expect(trusted('203.0.113.7/32,0.0.0.0/1')).toEqual(['203.0.113.7/32', '0.0.0.0/1']);
  });

  it.each([
    ['a host name', 'ingress.local', /'ingress\.local' is not an IPv4\/IPv6 address or CIDR block/],
    ['a malformed IPv4 address', '10.0.0.256', /not an IPv4\/IPv6 address/],
    ['an IPv4 address with leading zeros', '010.0.0.1', /not an IPv4\/IPv6 address/],
    ['a malformed IPv6 address', 'fd00:::1', /not an IPv4\/IPv6 address/],
    ['an address with a port', '10.0.0.1:8080', /not an IPv4\/IPv6 address/],
    ['an IPv6 zone id', 'fe80::1%eth0', /not an IPv4\/IPv6 address/],
    ['a netmask instead of a prefix length', '10.0.0.0/255.0.0.0', /prefix length must be a number from 1 to 32/],
    ['a prefix longer than IPv4', '10.0.0.0/33', /prefix length must be a number from 1 to 32/],
    ['a prefix longer than IPv6', 'fd00::/129', /prefix length must be a number from 1 to 128/],
    ['an empty prefix', '10.0.0.0/', /prefix length/],
    ['a negative prefix', '10.0.0.0/-1', /prefix length/],
    ['a prefix with a leading zero', '10.0.0.0/08', /prefix length/],
    ['every IPv4 address', '0.0.0.0/0', /would trust every address, letting any client choose its own/],
    ['every IPv6 address', '::/0', /would trust every address/],
    ['an IPv4 block with host bits set', '10.0.0.1/8', /'10\.0\.0\.1\/8' has host bits set; write the block as 10\.0\.0\.0\/8, or the address alone/],
    ['an IPv6 block with host bits set', 'fd00::1/64', /has host bits set; write the block as fd00::\/64/],
    ['an IPv6 block with host bits in the middle', '2001:db8:0:0:1::/32', /write the block as 2001:db8::\/32/],
    ['a keyword of other proxies', 'loopback', /'loopback' is not an IPv4\/IPv6 address/],
    ['a wildcard', '*', /not an IPv4\/IPv6 address/],
  ])('refuses %s, naming the variable and the entry', (_label, value, message) => {
    const err = refusal(`127.0.0.1, ${value}`);
    expect(err.variable).toBe(VARIABLE);
    expect(err.message).toMatch(new RegExp(`^${VARIABLE}: `));
    expect(err.message).toMatch(message);
  });
});
