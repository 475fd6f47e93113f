import { Inject, Injectable } from '@nestjs/common';

import { LOGGER } from '@signet/observability';
import type { Logger } from '@signet/observability';
import { deleteInBatches, PeriodicPass } from '@signet/persistence';

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
export class AuditRetentionJob extends PeriodicPass<number, Logger> {
  constructor(
    @Inject(AUDIT_REPOSITORY) private readonly events: AuditRepository,
    @Inject(AUDIT_OPTIONS) private readonly options: AuditOptions,
    @Inject(LOGGER) logger: Logger,
  ) {
    super({ intervalMs: options.pruneIntervalMs, firstDelayMs: 60_000, failed: 0, logger: logger.child({ component: 'audit-retention' }), name: 'audit retention pass' });
  }

  /** How many events went. */
  protected async pass(nowMs: number, stopping: () => boolean): Promise<number> {
    const cutoff = new Date(nowMs - this.options.retentionDays * DAY_MS);
    const total = await deleteInBatches((size) => this.events.deleteOlderThan(cutoff, size), AUDIT_RETENTION_BATCH, stopping, MAX_BATCHES_PER_PASS);
    if (total > 0) this.logger.info({ deleted: total, cutoff: cutoff.toISOString() }, 'audit retention: deleted events past retention');
    return total;
  }
}
