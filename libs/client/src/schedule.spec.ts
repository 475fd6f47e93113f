import { DEFAULT_POLICY, parseExpiry, refreshDelay, resolvePolicy, retryDelay } from './schedule';

const NOW = 1_700_000_000_000;
const HOUR = 3_600_000;

describe('refreshDelay', () => {
  it('refreshes between 75% and 90% of the remaining life, by the random pick', () => {
    expect(refreshDelay(NOW, NOW + HOUR, DEFAULT_POLICY, 0)).toBe(0.75 * HOUR);
    expect(refreshDelay(NOW, NOW + HOUR, DEFAULT_POLICY, 0.5)).toBe(0.825 * HOUR);
    expect(refreshDelay(NOW, NOW + HOUR, DEFAULT_POLICY, 0.999999)).toBeLessThanOrEqual(0.9 * HOUR);
    expect(refreshDelay(NOW, NOW + HOUR, DEFAULT_POLICY, 0.999999)).toBeGreaterThan(0.89 * HOUR);
  });

  it('spreads a fleet issued at the same second over the jitter window', () => {
    const delays = Array.from({ length: 100 }, (_, i) => refreshDelay(NOW, NOW + HOUR, DEFAULT_POLICY, i / 100));
    expect(new Set(delays).size).toBe(100);
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(0.14 * HOUR);
  });

  it('keeps the minimum lead time before expiry', () => {
    // 60 s left: 75% would leave 15 s, the lead wants 30 s.
    expect(refreshDelay(NOW, NOW + 60_000, DEFAULT_POLICY, 0)).toBe(30_000);
    expect(refreshDelay(NOW, NOW + 60_000, { ...DEFAULT_POLICY, minLeadMs: 5_000 }, 0)).toBe(45_000);
  });

  it('does not refresh in a hot loop when the lead time is longer than the token', () => {
    // 10 s tokens with a 30 s lead: wait the 1 s floor, not 0.
    expect(refreshDelay(NOW, NOW + 10_000, DEFAULT_POLICY, 0)).toBe(1_000);
  });

  it('never waits past expiry for the floor', () => {
    expect(refreshDelay(NOW, NOW + 800, DEFAULT_POLICY, 0)).toBe(600);
  });

  it('refreshes at once when the token has expired or the expiry is nonsense', () => {
    expect(refreshDelay(NOW, NOW - 1, DEFAULT_POLICY, 0.5)).toBe(0);
    expect(refreshDelay(NOW, NaN, DEFAULT_POLICY, 0.5)).toBe(0);
  });

  it('fits in a timer even for very long tokens', () => {
    expect(refreshDelay(NOW, NOW + 365 * 24 * HOUR, DEFAULT_POLICY, 0.5)).toBe(2 ** 31 - 1);
  });

  it('treats a random value outside [0, 1) as its nearest bound', () => {
    expect(refreshDelay(NOW, NOW + HOUR, DEFAULT_POLICY, -3)).toBe(0.75 * HOUR);
    expect(refreshDelay(NOW, NOW + HOUR, DEFAULT_POLICY, 7)).toBeLessThanOrEqual(0.9 * HOUR);
  });
});

describe('retryDelay', () => {
  it('doubles per attempt with up to half jitter, capped', () => {
    expect(retryDelay(0, DEFAULT_POLICY, 0.999999)).toBe(1_000);
    expect(retryDelay(0, DEFAULT_POLICY, 0)).toBe(500);
    expect(retryDelay(3, DEFAULT_POLICY, 0.999999)).toBe(8_000);
    expect(retryDelay(50, DEFAULT_POLICY, 0.999999)).toBe(30_000);
  });
});

describe('resolvePolicy', () => {
  it('rejects fractions that would refresh at or after expiry', () => {
    expect(() => resolvePolicy({ maxFraction: 1 })).toThrow(RangeError);
    expect(() => resolvePolicy({ minFraction: 0.9, maxFraction: 0.8 })).toThrow(RangeError);
    expect(resolvePolicy({ minLeadMs: 0 }).minLeadMs).toBe(0);
  });
});

describe('parseExpiry', () => {
  it('reads the API form and common alternatives', () => {
    expect(parseExpiry('2026-01-01T00:00:00.000Z')).toBe(Date.UTC(2026, 0, 1));
    expect(parseExpiry(1_767_225_600)).toBe(Date.UTC(2026, 0, 1));
    expect(parseExpiry(1_767_225_600_000)).toBe(Date.UTC(2026, 0, 1));
    expect(parseExpiry(new Date(Date.UTC(2026, 0, 1)))).toBe(Date.UTC(2026, 0, 1));
    expect(parseExpiry('soon')).toBeUndefined();
    expect(parseExpiry(undefined)).toBeUndefined();
  });
});
