/** One key's bucket: the theoretical arrival time of its next CONNECT (GCRA), ms since the epoch. */
interface Bucket {
  tat: number;
}

/**
 * Token buckets keyed by remote address or identity, as the generic cell rate
 * algorithm: one number per key instead of a token count and a refill time,
 * one Map lookup per CONNECT, no timer. A key whose bucket has refilled
 * completely holds no information, so `prune` (called by the shared sweep)
 * drops it: memory follows the keys active within the last `burst / rate`
 * seconds, not every key ever seen.
 */
export class ConnectRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  /** ms one CONNECT costs; 0: no limit. */
  private readonly interval: number;
  /** How far ahead of now a bucket may run: burst - 1 CONNECTs. */
  private readonly tolerance: number;

  constructor(ratePerSecond: number, burst: number) {
    this.interval = ratePerSecond > 0 ? 1000 / ratePerSecond : 0;
    this.tolerance = (Math.max(burst, 1) - 1) * this.interval;
  }

  /** Takes one CONNECT from `key`'s bucket; false when it is empty. */
  take(key: string, now: number): boolean {
    const interval = this.interval;
    if (interval === 0) return true;
    const bucket = this.buckets.get(key);
    if (bucket === undefined) {
      this.buckets.set(key, { tat: now + interval });
      return true;
    }
    const tat = bucket.tat > now ? bucket.tat : now;
    if (tat - now > this.tolerance) return false;
    bucket.tat = tat + interval;
    return true;
  }

  /** Drops the buckets that are full again (idle keys). */
  prune(now: number): void {
    for (const [key, bucket] of this.buckets) if (bucket.tat <= now) this.buckets.delete(key);
  }

  get size(): number {
    return this.buckets.size;
  }
}
