import type { MinimalLogger } from './logger';

export interface PeriodicSchedule<T, L extends MinimalLogger = MinimalLogger> {
  /** From the end of one pass to the start of the next; 0: never scheduled (`run` still works). */
  intervalMs: number;
  /** The first pass after start, sooner so that a process restarting often still runs it; default `intervalMs`. */
  firstDelayMs?: number;
  /** What a failed pass yields: it is logged and the next one retries. */
  failed: T;
  /** Warned on with a failed pass; the subclass's own logging uses it too (`this.logger`). */
  logger: L;
  /** Said in the warning of a failed pass: `retention pass`, `scheduled LDAP sync pass`. */
  name: string;
}

/**
 * An upkeep pass over stored rows (retention, pruning, directory sync) on a schedule: the next pass
 * is set when one ends, so passes never pile up; a pass asked for while one runs shares it; at module
 * destroy the running pass is told to stop (`stopping()`, checked between its batches) and awaited.
 * A subclass is a Nest provider: the schedule starts at module init. The timer is unref'd.
 */
export abstract class PeriodicPass<T, L extends MinimalLogger = MinimalLogger> {
  protected readonly logger: L;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<T> | null = null;
  private stopping = false;

  constructor(private readonly schedule: PeriodicSchedule<T, L>) {
    this.logger = schedule.logger;
  }

  /** One pass; it ends early when `stopping()` says so. */
  protected abstract pass(nowMs: number, stopping: () => boolean): Promise<T>;

  onModuleInit(): void {
    const { intervalMs, firstDelayMs } = this.schedule;
    if (intervalMs > 0) this.next(Math.min(firstDelayMs ?? intervalMs, intervalMs));
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass now, or the one already running. `nowMs` for tests. */
  run(nowMs = Date.now()): Promise<T> {
    this.running ??= this.pass(nowMs, () => this.stopping)
      .catch((err: unknown) => {
        this.logger.warn({ err }, `${this.schedule.name} failed; retrying on the next one`);
        return this.schedule.failed;
      })
      .finally(() => (this.running = null));
    return this.running;
  }

  private next(delayMs: number): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => void this.run().then(() => this.next(this.schedule.intervalMs)), delayMs);
    this.timer.unref();
  }
}

/**
 * Runs `deleteBatch(size)` (one short statement of at most `size` rows) until one deletes fewer, `stopping()`
 * says so, or `maxBatches` ran, so a backlog is worked off in steps the API's writes interleave with.
 * Returns the rows deleted.
 */
export async function deleteInBatches(deleteBatch: (size: number) => Promise<number>, size: number, stopping: () => boolean, maxBatches = Number.POSITIVE_INFINITY): Promise<number> {
  let total = 0;
  for (let i = 0; i < maxBatches && !stopping(); i++) {
    const count = await deleteBatch(size);
    total += count;
    if (count < size) break;
  }
  return total;
}
