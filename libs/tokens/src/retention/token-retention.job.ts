import { Inject, Injectable, Optional } from '@nestjs/common';

import { LOGGER, METRICS } from '@signet/observability';
import type { Logger, SignetMetrics } from '@signet/observability';
import { deleteInBatches, PeriodicPass } from '@signet/persistence';

import { TOKENS_OPTIONS, TokensOptions } from '../options';
import { PruneCounts, PruneTable, RETENTION_BATCH, TOKEN_RETENTION_REPOSITORY, TokenRetentionRepository } from './token-retention.repository';

const DAY_MS = 86_400_000;

/**
 * Deletes rows that ended more than `SIGNET_RETENTION_DAYS` ago, every
 * `SIGNET_PRUNE_INTERVAL_MS` (0: never), in the token service process.
 *
 * - A refresh token ends when it expires or is revoked, whichever is first;
 *   being used does not end it. A used refresh token stays until its own
 *   expiry + retention, so replaying it keeps being reuse (the family is
 *   revoked) exactly as before, whether the family is still live or not;
 *   presenting it later is refused as `invalid_refresh_token`, as an
 *   expired unused one always was. A live refresh token is never deleted.
 * - An access token ends when it expires (a revoked one stays listed as
 *   revoked until then + retention), and goes only once no refresh token
 *   row refers to it: refreshing needs the previous token's row.
 * - A revocation log entry ends at its `until`, so an entry still in force
 *   (the bus is rebuilt from them) is never touched.
 *
 * Deletes are by rule, so they are idempotent; each batch is its own short
 * transaction under an advisory lock, so the batches of replicas running at
 * the same moment take turns (each sees what the previous one deleted, and
 * the API's requests interleave between them), and a pass stopped between
 * batches leaves nothing half done. Counts are logged and counted in
 * `signet_retention_pruned_rows_total{table}`; no row content is logged.
 */
@Injectable()
export class TokenRetentionJob extends PeriodicPass<PruneCounts, Logger> {
  constructor(
    @Inject(TOKEN_RETENTION_REPOSITORY) private readonly rows: TokenRetentionRepository,
    @Inject(TOKENS_OPTIONS) private readonly options: TokensOptions,
    @Inject(LOGGER) logger: Logger,
    @Optional() @Inject(METRICS) private readonly metrics?: SignetMetrics,
  ) {
    const failed = { issuedTokens: 0, refreshTokens: 0, revocations: 0 };
    super({ intervalMs: options.retention.pruneIntervalMs, firstDelayMs: 60_000, failed, logger: logger.child({ component: 'token-retention' }), name: 'retention pass' });
  }

  protected async pass(nowMs: number, stopping: () => boolean): Promise<PruneCounts> {
    const cutoff = new Date(nowMs - this.options.retention.retentionDays * DAY_MS);
    // Refresh tokens first: an access token goes only once no refresh token refers to it.
    const refreshTokens = await this.drain('refreshTokens', cutoff, stopping);
    const issuedTokens = await this.drain('issuedTokens', cutoff, stopping);
    const revocations = await this.drain('revocations', cutoff, stopping);
    const counts: PruneCounts = { issuedTokens, refreshTokens, revocations };
    const total = counts.issuedTokens + counts.refreshTokens + counts.revocations;
    if (total > 0) this.logger.info({ ...counts, cutoff: cutoff.toISOString() }, 'retention: deleted rows past retention');
    else this.logger.debug({ cutoff: cutoff.toISOString() }, 'retention: nothing to delete');
    return counts;
  }

  /** Deletes batches of `table` until one is less than full or the process stops. */
  private async drain(table: PruneTable, cutoff: Date, stopping: () => boolean): Promise<number> {
    const total = await deleteInBatches(() => this.rows.deleteBatch(table, cutoff), RETENTION_BATCH, stopping);
    this.metrics?.retentionPruned.inc({ table: TABLE_NAMES[table] }, total);
    return total;
  }
}

const TABLE_NAMES: Record<PruneTable, string> = { issuedTokens: 'issued_tokens', refreshTokens: 'refresh_tokens', revocations: 'revocations' };
