import { ConnectRateLimiter } from './rate-limit';

describe('ConnectRateLimiter (token bucket per key)', () => {
  const T0 = 1_700_000_000_000;

  it('allows a burst, then one CONNECT per 1/rate seconds', () => {
    const limiter = new ConnectRateLimiter(2, 3);
    expect([1, 2, 3, 4].map(() => limiter.take('10.0.0.1', T0))).toEqual([true, true, true, false]);
    expect(limiter.take('10.0.0.1', T0 + 499)).toBe(false);
    expect(limiter.take('10.0.0.1', T0 + 500)).toBe(true);
    expect(limiter.take('10.0.0.1', T0 + 500)).toBe(false);
  });

  it('keeps keys apart', () => {
    const limiter = new ConnectRateLimiter(1, 1);
    expect(limiter.take('a', T0)).toBe(true);
    expect(limiter.take('a', T0)).toBe(false);
    expect(limiter.take('b', T0)).toBe(true);
  });

  it('refills to the burst and no further after a quiet period', () => {
    const limiter = new ConnectRateLimiter(10, 2);
    expect(limiter.take('a', T0)).toBe(true);
    expect(limiter.take('a', T0)).toBe(true);
    const later = T0 + 60_000;
    expect([1, 2, 3].map(() => limiter.take('a', later))).toEqual([true, true, false]);
  });

  it('a refused CONNECT costs nothing: the next token comes on time', () => {
    const limiter = new ConnectRateLimiter(1, 1);
    limiter.take('a', T0);
    for (let i = 0; i < 100; i++) expect(limiter.take('a', T0 + 10 * i)).toBe(false);
    expect(limiter.take('a', T0 + 1000)).toBe(true);
  });

  it('prune drops only buckets that are full again', () => {
    const limiter = new ConnectRateLimiter(1, 5);
    limiter.take('idle', T0);
    for (let i = 0; i < 5; i++) limiter.take('busy', T0 + 500);
    limiter.prune(T0 + 1000);
    expect(limiter.size).toBe(1);
    // The busy key's state survived the prune: it is still empty.
    expect(limiter.take('busy', T0 + 1000)).toBe(false);
    limiter.prune(T0 + 10_000);
    expect(limiter.size).toBe(0);
  });

  it('rate 0 means no limit and keeps no state', () => {
    const limiter = new ConnectRateLimiter(0, 1);
    for (let i = 0; i < 1000; i++) expect(limiter.take('a', T0)).toBe(true);
    expect(limiter.size).toBe(0);
  });
});
