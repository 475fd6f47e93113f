/**
 * Token buckets keyed by a string (a client address, say), in memory, as the
 * generic cell rate algorithm: each key holds one number, the theoretical
 * arrival time of its next request, so a take is one Map lookup and needs
 * no timer. Framework-free.
 *
 * Memory is bounded: a key whose bucket has refilled completely carries no
 * information and is dropped by the sweep `take` runs now and then; beyond
 * `maxKeys` live keys the least recently used one is forgotten (that key
 * starts again with a full bucket, which fails open for it only).
 */
export class TokenBucketLimiter {
  private readonly tat = new Map<string, number>();
  /** ms one request costs; 0: no limit. */
  private readonly interval: number;
  /** How far ahead of now a key may run: burst − 1 requests. */
  private readonly tolerance: number;
  private readonly maxKeys: number;
  private readonly sweepEveryMs: number;
  private nextSweep = 0;

  constructor(options: { ratePerSecond: number; burst: number; maxKeys?: number }) {
    this.interval = options.ratePerSecond > 0 ? 1000 / options.ratePerSecond : 0;
    this.tolerance = (Math.max(1, options.burst) - 1) * this.interval;
    this.maxKeys = options.maxKeys ?? 100_000;
    // A full refill at the latest, but neither constantly nor rarely.
    this.sweepEveryMs = Math.min(60_000, Math.max(1_000, this.tolerance + this.interval));
  }

  /** Takes one request from `key`'s bucket: 0 when allowed, else how many ms until one would be. */
  take(key: string, now: number = Date.now()): number {
    if (this.interval === 0) return 0;
    if (now >= this.nextSweep) {
      this.prune(now);
      this.nextSweep = now + this.sweepEveryMs;
    }
    const stored = this.tat.get(key);
    const tat = stored !== undefined && stored > now ? stored : now;
    if (tat - now > this.tolerance) return Math.ceil(tat - now - this.tolerance);
    // Re-inserted so the Map's order is least recently used first.
    if (stored !== undefined) this.tat.delete(key);
    else if (this.tat.size >= this.maxKeys) this.evict(now);
    this.tat.set(key, tat + this.interval);
    return 0;
  }

  /** Drops the keys whose bucket is full again; returns how many. */
  prune(now: number): number {
    let dropped = 0;
    for (const [key, tat] of this.tat) {
      if (tat <= now) {
        this.tat.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  get size(): number {
    return this.tat.size;
  }

  private evict(now: number): void {
    if (this.prune(now) > 0) return;
    const oldest = this.tat.keys().next();
    if (!oldest.done) this.tat.delete(oldest.value);
  }
}
