import { Inject, Injectable } from '@nestjs/common';

import { LOGGER } from '@signet/observability';
import type { Logger } from '@signet/observability';
import { deleteInBatches, PeriodicPass } from '@signet/persistence';

import { ACCOUNTS_OPTIONS, type AccountsOptions } from '../options';
import { OIDC_PAYLOAD_REPOSITORY, type OidcPayloadRepository } from './oidc-payload.repository';

/** Rows per DELETE: short statements, so sign-ins interleave with a backlog being worked off. */
export const OIDC_PRUNE_BATCH = 1000;
/** Batches per pass at most; a larger backlog goes over the next passes. */
const MAX_BATCHES_PER_PASS = 100;

/**
 * Deletes the authorization server's expired models (codes, sessions, grants, access and refresh
 * tokens, interactions, the dashboard's sessions) every SIGNET_PRUNE_INTERVAL_MS (0: never). An
 * expired row is already answered as absent, so deleting it changes nothing a client sees; without
 * this, every sign-in and refresh would leave rows behind for good.
 */
@Injectable()
export class OidcPayloadPruneJob extends PeriodicPass<number, Logger> {
  constructor(
    @Inject(OIDC_PAYLOAD_REPOSITORY) private readonly payloads: OidcPayloadRepository,
    @Inject(ACCOUNTS_OPTIONS) options: AccountsOptions,
    @Inject(LOGGER) logger: Logger,
  ) {
    super({ intervalMs: options.pruneIntervalMs, firstDelayMs: 60_000, failed: 0, logger: logger.child({ component: 'oidc-prune' }), name: 'sign-in prune pass' });
  }

  /** How many rows went. */
  protected async pass(nowMs: number, stopping: () => boolean): Promise<number> {
    const before = new Date(nowMs);
    const total = await deleteInBatches((size) => this.payloads.deleteExpired(before, size), OIDC_PRUNE_BATCH, stopping, MAX_BATCHES_PER_PASS);
    if (total > 0) this.logger.info({ deleted: total }, 'sign-in prune: deleted expired authorization server rows');
    return total;
  }
}
