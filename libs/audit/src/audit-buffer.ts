import type { Logger } from '@signet/observability';
import { Counter, type Registry } from 'prom-client';

export interface AuditBufferOptions<T> {
  /** Writes one batch; a rejection keeps the batch for the next flush while there is room. */
  write: (batch: T[]) => Promise<void>;
  /** Items held at most; beyond, new ones are dropped and counted. */
  capacity: number;
  /** Items per write. */
  batchSize: number;
  /** Flush this often (timer unref'd); 0: only on flush(). */
  flushMs: number;
  logger: Logger;
  registry?: Registry;
  /** Label of the metrics (`sink`): `database`, `redis`. */
  sink: string;
}

/** At most one warning per interval: a failing database must not flood the log. */
const WARN_INTERVAL_MS = 10_000;

/**
 * A bounded in-memory queue written in batches off the caller's path: `push`
 * is O(1) and never throws; a timer drains it. When the queue is full, or a
 * batch cannot be written and no room is left to keep it, items are dropped
 * and counted in `signet_audit_dropped_total{sink,reason}`, so a slow or
 * failed store costs the caller nothing and the process no unbounded memory.
 */
export class AuditBuffer<T> {
  private queue: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | null = null;
  private warnedAt = Number.NEGATIVE_INFINITY;
  private readonly dropped: Counter<'sink' | 'reason'>;
  private readonly written: Counter<'sink'>;

  constructor(private readonly options: AuditBufferOptions<T>) {
    this.dropped = counter(options.registry, 'signet_audit_dropped_total', 'Audit events dropped (buffer full or write failed)', ['sink', 'reason']);
    this.written = counter(options.registry, 'signet_audit_written_total', 'Audit events written', ['sink']);
    if (options.flushMs > 0) {
      this.timer = setInterval(() => void this.flush(), options.flushMs);
      this.timer.unref();
    }
  }

  get size(): number {
    return this.queue.length;
  }

  push(item: T): void {
    if (this.queue.length >= this.options.capacity) {
      this.dropped.inc({ sink: this.options.sink, reason: 'buffer_full' });
      return;
    }
    this.queue.push(item);
  }

  /** Writes what is queued (a flush in progress is joined, then another runs for what came since). */
  async flush(): Promise<void> {
    if (this.flushing) await this.flushing;
    if (this.queue.length === 0) return;
    this.flushing = this.drain().finally(() => (this.flushing = null));
    await this.flushing;
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.batchSize);
      try {
        await this.options.write(batch);
        this.written.inc({ sink: this.options.sink }, batch.length);
      } catch (err) {
        // Kept in front for the next flush while there is room; what does not fit is dropped and counted.
        const room = Math.max(0, this.options.capacity - this.queue.length);
        const kept = batch.slice(0, room);
        this.queue = [...kept, ...this.queue];
        if (kept.length < batch.length) this.dropped.inc({ sink: this.options.sink, reason: 'write_failed' }, batch.length - kept.length);
        this.warn(err, batch.length - kept.length);
        return;
      }
    }
  }

  private warn(err: unknown, dropped: number): void {
    const now = Date.now();
    if (now - this.warnedAt < WARN_INTERVAL_MS) return;
    this.warnedAt = now;
    this.options.logger.warn({ err, sink: this.options.sink, queued: this.queue.length, dropped }, 'could not write audit events; kept for the next try while there is room');
  }
}

export function counter<L extends string>(registry: Registry | undefined, name: string, help: string, labelNames: L[]): Counter<L> {
  const existing = registry?.getSingleMetric(name);
  if (existing) return existing as Counter<L>;
  return new Counter({ name, help, labelNames, registers: registry ? [registry] : [] });
}
