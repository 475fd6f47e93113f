import { loadConfig } from '@signet/config';
import { ProblemError } from '@signet/http';

import { tokensOptionsFrom } from '../options';
import { addressKey, PublicRateLimiter } from './public-rate-limiter';

describe('PublicRateLimiter', () => {
  const limiter = (env: Record<string, string>) => new PublicRateLimiter(tokensOptionsFrom(loadConfig(env)));

  it('throws 429 rate_limited with Retry-After beyond the burst', () => {
    const l = limiter({ SIGNET_PUBLIC_RATE_PER_IP: '1', SIGNET_PUBLIC_BURST_PER_IP: '2' });
    l.check('192.0.2.1', 0);
    l.check('192.0.2.1', 0);
    let error: unknown;
    try {
      l.check('192.0.2.1', 0);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ProblemError);
    const problem = error as ProblemError;
    expect([problem.status, problem.code, problem.headers['retry-after'], problem.extensions['retry_after_seconds']]).toEqual([429, 'rate_limited', '1', 1]);
    expect(() => l.check('192.0.2.1', 1000)).not.toThrow();
  });

  it('keys IPv4 by address, IPv6 by /64, IPv4-mapped IPv6 as IPv4', () => {
    expect(addressKey('192.0.2.1')).toBe(addressKey('::ffff:192.0.2.1'));
    expect(addressKey('192.0.2.1')).not.toBe(addressKey('192.0.2.2'));
    expect(addressKey('2001:db8::1')).toBe(addressKey('2001:db8:0:0:ffff:ffff:ffff:ffff'));
    expect(addressKey('2001:db8::1')).not.toBe(addressKey('2001:db8:0:1::1'));
    expect(addressKey('not an address')).toBe('not an address');
  });
});
