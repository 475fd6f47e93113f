import { TokenBucketLimiter } from './token-bucket';

describe('TokenBucketLimiter', () => {
  it('allows a burst at once, then one request per interval, and says how long to wait', () => {
    const limiter = new TokenBucketLimiter({ ratePerSecond: 2, burst: 3 });
    const t = 1_000_000;
    expect([limiter.take('a', t), limiter.take('a', t), limiter.take('a', t)]).toEqual([0, 0, 0]);
    expect(limiter.take('a', t)).toBe(500);
    expect(limiter.take('a', t + 499)).toBe(1);
    expect(limiter.take('a', t + 500)).toBe(0);
    expect(limiter.take('a', t + 500)).toBe(500);
    // A refused request costs nothing: waiting the time given is enough.
    expect(limiter.take('a', t + 1000)).toBe(0);
  });

  it('keeps keys apart', () => {
    const limiter = new TokenBucketLimiter({ ratePerSecond: 1, burst: 1 });
    expect(limiter.take('a', 0)).toBe(0);
    expect(limiter.take('a', 0)).toBe(1000);
    expect(limiter.take('b', 0)).toBe(0);
  });

  it('refills up to the burst only, however long a key was idle', () => {
    const limiter = new TokenBucketLimiter({ ratePerSecond: 10, burst: 2 });
    const later = 3_600_000;
    expect([limiter.take('a', later), limiter.take('a', later)]).toEqual([0, 0]);
    expect(limiter.take('a', later)).toBe(100);
  });

  it('does nothing with a rate of 0', () => {
    const limiter = new TokenBucketLimiter({ ratePerSecond: 0, burst: 1 });
    for (let i = 0; i < 100; i++) expect(limiter.take('a', 0)).toBe(0);
    expect(limiter.size).toBe(0);
  });

  it('forgets idle keys (full buckets) as it goes, and never holds more than maxKeys', () => {
    const limiter = new TokenBucketLimiter({ ratePerSecond: 1, burst: 5, maxKeys: 100 });
    for (let i = 0; i < 100; i++) limiter.take(`k${i}`, 0);
    expect(limiter.size).toBe(100);
    // Past the sweep period every bucket is full again: the next take drops them all.
    limiter.take('fresh', 60_000);
    expect(limiter.size).toBe(1);

    for (let i = 0; i < 250; i++) limiter.take(`busy${i}`, 60_001);
    expect(limiter.size).toBe(100);
  });

  it('forgets the least recently used key when full of live buckets', () => {
    const limiter = new TokenBucketLimiter({ ratePerSecond: 1, burst: 1, maxKeys: 2 });
    limiter.take('a', 0);
    limiter.take('b', 0);
    limiter.take('c', 0);
    expect(limiter.size).toBe(2);
    expect(limiter.take('b', 0)).toBe(1000);
    expect(limiter.take('c', 0)).toBe(1000);
    // 'a' was forgotten: it starts again with a full bucket.
    expect(limiter.take('a', 0)).toBe(0);
  });

  it('prune drops only buckets that are full again; a busy key keeps its state', () => {
    const limiter = new TokenBucketLimiter({ ratePerSecond: 1, burst: 5 });
    const t = 1_700_000_000_000;
    limiter.take('idle', t);
    for (let i = 0; i < 5; i++) limiter.take('busy', t + 500);
    expect(limiter.prune(t + 1000)).toBe(1);
    expect(limiter.size).toBe(1);
    expect(limiter.take('busy', t + 1000)).toBeGreaterThan(0);
    limiter.prune(t + 10_000);
    expect(limiter.size).toBe(0);
  });
});
