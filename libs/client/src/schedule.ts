/**
 * When to refresh a token: a pure function of the clock and a random number,
 * so the policy is tested without real time.
 */

export interface RefreshPolicy {
  /** Refresh at this fraction of the token's remaining life at the earliest… */
  minFraction: number;
  /** …and at this fraction at the latest; the pick between them is random so a fleet spreads out. */
  maxFraction: number;
  /** Always leave at least this much life on the old token when refreshing (room for a slow backend). */
  minLeadMs: number;
  /** Never refresh sooner than this after the last one (no hot loop on very short tokens), unless that would pass expiry. */
  minDelayMs: number;
  /** First retry after a failed refresh; doubles per attempt, with jitter. */
  retryBaseMs: number;
  /** Longest wait between retries. */
  retryMaxMs: number;
}

export const DEFAULT_POLICY: RefreshPolicy = {
  minFraction: 0.75,
  maxFraction: 0.9,
  minLeadMs: 30_000,
  minDelayMs: 1_000,
  retryBaseMs: 1_000,
  retryMaxMs: 30_000,
};

/** Timers fire at most this far ahead (setTimeout's 32-bit limit). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function resolvePolicy(overrides: Partial<RefreshPolicy> = {}): RefreshPolicy {
  const p = { ...DEFAULT_POLICY, ...overrides };
  const ok =
    p.minFraction > 0 &&
    p.minFraction <= p.maxFraction &&
    p.maxFraction < 1 &&
    p.minLeadMs >= 0 &&
    p.minDelayMs >= 0 &&
    p.retryBaseMs > 0 &&
    p.retryMaxMs >= p.retryBaseMs;
  if (!ok) throw new RangeError('invalid refresh policy: need 0 < minFraction <= maxFraction < 1 and non-negative times');
  return p;
}

/**
 * Milliseconds from `nowMs` until the refresh of a token expiring at
 * `expiresAtMs`. `random` is in [0, 1).
 */
export function refreshDelay(nowMs: number, expiresAtMs: number, policy: RefreshPolicy, random: number): number {
  const remaining = expiresAtMs - nowMs;
  if (!(remaining > 0)) return 0;
  const fraction = policy.minFraction + clamp01(random) * (policy.maxFraction - policy.minFraction);
  const jittered = remaining * fraction;
  // Keep the lead time, but never below the floor unless the token would expire first.
  const delay = Math.max(Math.min(jittered, remaining - policy.minLeadMs), Math.min(policy.minDelayMs, jittered), 0);
  return Math.min(Math.round(delay), MAX_TIMER_MS);
}

/** Milliseconds before retry number `attempt` (0-based) of a failed refresh: exponential, capped, half-jittered. */
export function retryDelay(attempt: number, policy: RefreshPolicy, random: number): number {
  const base = Math.min(policy.retryMaxMs, policy.retryBaseMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  return Math.round(base * (0.5 + clamp01(random) * 0.5));
}

/** A token's expiry in epoch milliseconds, from an ISO string, epoch seconds/milliseconds or a Date. */
export function parseExpiry(value: unknown): number | undefined {
  if (value instanceof Date) return finite(value.getTime());
  if (typeof value === 'number') return finite(value < 1e12 ? value * 1000 : value);
  if (typeof value === 'string' && value.trim() !== '') return finite(Date.parse(value));
  return undefined;
}

const finite = (n: number): number | undefined => (Number.isFinite(n) ? n : undefined);
const clamp01 = (r: number): number => (Number.isFinite(r) ? Math.min(Math.max(r, 0), 1 - Number.EPSILON) : 0);
