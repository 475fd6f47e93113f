interface HeapItem<K> {
  at: number;
  key: K;
}

export interface ExpiringMapOptions {
  now?: () => number;
  /** Minimum spacing between prune runs, so a burst of near-simultaneous expiries costs one wake-up. */
  pruneGranularityMs?: number;
}

/**
 * A Map whose entries disappear after their expiry time. Lookups are O(1) and
 * check the expiry themselves, so correctness never depends on the timer; the
 * one shared (unref'd) timer only reclaims memory, driven by a min-heap of
 * expiry times so pruning costs O(log n) per expired entry instead of a scan.
 */
export class ExpiringMap<K, V> {
  private readonly entries = new Map<K, { value: V; expiresAt: number }>();
  private readonly heap: HeapItem<K>[] = [];
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly now: () => number;
  private readonly granularityMs: number;

  constructor(options: ExpiringMapOptions = {}) {
    this.now = options.now ?? Date.now;
    this.granularityMs = options.pruneGranularityMs ?? 1000;
  }

  /** Live value, or undefined if absent or expired. */
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.expiresAt <= this.now()) return undefined;
    return entry.value;
  }

  expiresAt(key: K): number | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.expiresAt <= this.now()) return undefined;
    return entry.expiresAt;
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  /** Stores `value` until `expiresAt`; ignored if that is already past. */
  set(key: K, value: V, expiresAt: number): boolean {
    if (!(expiresAt > this.now())) return false;
    this.entries.set(key, { value, expiresAt });
    this.push({ at: expiresAt, key });
    this.schedule();
    return true;
  }

  delete(key: K): boolean {
    // The heap item stays behind; prune skips it because the map entry is gone.
    return this.entries.delete(key);
  }

  /** Live entries, in insertion order. */
  *values(): IterableIterator<V> {
    const now = this.now();
    for (const entry of this.entries.values()) if (entry.expiresAt > now) yield entry.value;
  }

  /** Count after dropping what has expired. */
  get size(): number {
    this.prune();
    return this.entries.size;
  }

  /** Drops expired entries now; returns how many were dropped. */
  prune(): number {
    const now = this.now();
    let dropped = 0;
    while (this.heap.length > 0 && this.heap[0]!.at <= now) {
      const item = this.pop()!;
      const entry = this.entries.get(item.key);
      // Only drop if this heap item is the entry's current expiry (it may have been extended).
      if (entry !== undefined && entry.expiresAt <= now) {
        this.entries.delete(item.key);
        dropped++;
      }
    }
    // Stale heap items (deleted or extended keys) would otherwise pile up.
    if (this.heap.length > 2 * this.entries.size + 1024) this.rebuildHeap();
    return dropped;
  }

  clear(): void {
    this.entries.clear();
    this.heap.length = 0;
    this.stopTimer();
  }

  /** Stops the prune timer (entries stay readable). */
  close(): void {
    this.stopTimer();
  }

  private schedule(): void {
    const next = this.heap[0];
    if (next === undefined) {
      this.stopTimer();
      return;
    }
    const at = Math.max(next.at, this.now() + this.granularityMs);
    if (this.timer !== null && this.timerAt <= at) return;
    this.stopTimer();
    this.timerAt = at;
    // Bounded so a far-future expiry does not overflow setTimeout's 32-bit delay.
    const delay = Math.min(Math.max(0, at - this.now()), 2 ** 31 - 1);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.prune();
      this.schedule();
    }, delay);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private rebuildHeap(): void {
    this.heap.length = 0;
    for (const [key, entry] of this.entries) this.push({ at: entry.expiresAt, key });
  }

  private push(item: HeapItem<K>): void {
    const heap = this.heap;
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= item.at) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = item;
  }

  private pop(): HeapItem<K> | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.at < heap[left]!.at ? right : left;
      if (heap[child]!.at >= last.at) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}
