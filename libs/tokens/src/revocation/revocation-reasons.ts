import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

import { DATA_SOURCE, LOGGER, REVOCATION_BUS } from '@signet/http';
import type { Logger } from '@signet/observability';
import { inTransaction, RevocationStore, runAfterCommit } from '@signet/persistence';
import type { RevocationBus, RevocationEvent, RevocationSource } from '@signet/revocation';

/**
 * A revoke waits for the bus (the response then means "sent to the edges"),
 * but never longer than this: the revocation is durable either way.
 */
export const PUBLISH_TIMEOUT_MS = 2_000;

/** Reasons Signet records; free text is allowed, these are the ones it uses. */
export const REVOCATION_REASONS = {
  tokenRevoked: 'token_revoked',
  userRevoked: 'user_revoked',
  refreshReuse: 'refresh_reuse',
} as const;

/**
 * "Nothing lost" revocation (ARCHITECTURE §6): the `revocations` row is
 * written in the same transaction as the `revoked_at` updates, and the event
 * is published on the bus only once that transaction has committed, carrying
 * the row's `seq`. If publishing fails, the revocation is still durable: the
 * bus rebuilds its deny state from {@link listActive}.
 */
@Injectable()
export class RevocationService implements RevocationSource {
  private readonly store: RevocationStore;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(REVOCATION_BUS) private readonly bus: RevocationBus,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.store = new RevocationStore(dataSource);
  }

  /**
   * Records a revocation of `credentialIds` (token jtis, API key ids) in force
   * until `until` (the latest expiry among them). With `manager`, joins that
   * transaction and publishes after it commits; without, runs its own.
   * Returns null when there is nothing to enforce (no ids, or all expired).
   */
  async revoke(
    credentialIds: readonly string[],
    until: Date | number,
    reason: string,
    manager?: EntityManager,
  ): Promise<RevocationEvent | null> {
    const untilMs = typeof until === 'number' ? until : until.getTime();
    if (credentialIds.length === 0 || untilMs <= Date.now()) return null;
    if (!manager) return inTransaction(this.dataSource, (m) => this.revoke(credentialIds, untilMs, reason, m));
    const event = await this.store.append(manager, credentialIds, untilMs, reason);
    runAfterCommit(manager, () => this.publish(event));
    return event;
  }

  /** Revocations still in force at `nowMs`, oldest first: the source the bus rebuilds from. */
  listActive(nowMs: number): Promise<RevocationEvent[]> {
    return this.store.listActive(nowMs);
  }

  /**
   * Publishes a revocation that is already committed (its `revocations` row
   * was appended by a statement of the caller's, e.g. the single-statement
   * token revoke). Waits for the bus like {@link revoke}; never throws.
   */
  publishCommitted(event: RevocationEvent): Promise<void> {
    return this.publish(event);
  }

  private async publish(event: RevocationEvent): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`bus did not confirm within ${PUBLISH_TIMEOUT_MS} ms`)), PUBLISH_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.bus.publish(event), timeout]);
    } catch (err) {
      // Committed already: edges learn of it when the bus catches up from PostgreSQL.
      this.logger.error(
        { err, seq: event.seq, reason: event.reason, count: event.credentialIds.length },
        'revocation committed but not published; the bus will recover it from the database',
      );
    } finally {
      clearTimeout(timer);
    }
  }
}
