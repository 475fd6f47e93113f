import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';

import { LOGGER } from '@signet/observability';
import type { Logger } from '@signet/observability';

import { AUDIT_REPOSITORY, type AuditRepository } from '../audit.repository';
import { AUDIT_OPTIONS, type AuditOptions } from '../options';

const DAY_MS = 86_400_000;
/** Rows per DELETE: each is a short statement, so the API's writes interleave. */
export const AUDIT_RETENTION_BATCH = 5000;
/** Batches per pass at most: a backlog is worked off over several passes, never in one long run. */
const MAX_BATCHES_PER_PASS = 200;

/**
 * Deletes audit events older than SIGNET_AUDIT_RETENTION_DAYS every
 * SIGNET_AUDIT_PRUNE_INTERVAL_MS (0: never). Deletes are by rule (age), so
 * replicas running at once only share the work; each pass is bounded.
 */
@Injectable()
export class AuditRetentionJob implements OnModuleInit, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | null = null;
  private stopping = false;
  private readonly logger: Logger;

  constructor(
    @Inject(AUDIT_REPOSITORY) private readonly events: AuditRepository,
    @Inject(AUDIT_OPTIONS) private readonly options: AuditOptions,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'audit-retention' });
  }

  onModuleInit(): void {
    const interval = this.options.pruneIntervalMs;
    if (interval > 0) this.schedule(Math.min(interval, 60_000));
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass (a pass already running is shared); how many events went. `nowMs` for tests. */
  prune(nowMs = Date.now()): Promise<number> {
    this.running ??= this.pass(nowMs)
      .catch((err: unknown) => {
        this.logger.warn({ err }, 'audit retention pass failed; retrying on the next one');
        return 0;
      })
      .finally(() => (this.running = null));
    return this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => void this.prune().then(() => this.schedule(this.options.pruneIntervalMs)), delayMs);
    this.timer.unref();
  }

  private async pass(nowMs: number): Promise<number> {
    const cutoff = new Date(nowMs - this.options.retentionDays * DAY_MS);
    let total = 0;
    for (let i = 0; i < MAX_BATCHES_PER_PASS && !this.stopping; i++) {
      const count = await this.events.deleteOlderThan(cutoff, AUDIT_RETENTION_BATCH);
      total += count;
      if (count < AUDIT_RETENTION_BATCH) break;
    }
    if (total > 0) this.logger.info({ deleted: total, cutoff: cutoff.toISOString() }, 'audit retention: deleted events past retention');
    return total;
  }
}
