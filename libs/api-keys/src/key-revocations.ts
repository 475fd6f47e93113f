import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

import { DATA_SOURCE, LOGGER, REVOCATION_BUS } from '@signet/http';
import type { Logger } from '@signet/observability';
import { RevocationStore, runAfterCommit } from '@signet/persistence';
import type { RevocationBus, RevocationEvent } from '@signet/revocation';

import { ApiKeysService } from './usecases/verify/api-keys.service';

/**
 * How long a key's revocation stays on the bus and in edge deny lists. A
 * revoked key is refused by the key service for good (the row says so); the
 * deny entry only has to outlive every cached verdict (≤ 60 s) and an edge's
 * catch-up after a disconnection, so an hour is ample.
 */
export const KEY_DENY_MS = 3_600_000;
/** A revoke waits for the bus at most this long; the revocation is durable either way. */
export const KEY_PUBLISH_TIMEOUT_MS = 2_000;

export const KEY_REVOCATION_REASONS = {
  revoked: 'api_key_revoked',
  rotated: 'api_key_rotated',
  expired: 'api_key_expired',
} as const;

/**
 * The revocation path of the core flow, for keys: the `revocations` row is
 * appended in the caller's transaction (with the `api_keys` update), and the
 * event `{ seq, credentialIds: [key ids], … }` is published after commit. Every
 * process drops cached verdicts of those keys, and every edge closes their
 * live sessions (credentialId = key id) and refuses them.
 */
@Injectable()
export class KeyRevocations {
  private readonly store: RevocationStore;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(REVOCATION_BUS) private readonly bus: RevocationBus,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly keys: ApiKeysService,
  ) {
    this.store = new RevocationStore(dataSource);
  }

  /** Must run inside `manager`'s transaction; publishes once it commits. */
  async record(manager: EntityManager, keyIds: readonly string[], reason: string): Promise<void> {
    if (keyIds.length === 0) return;
    const event = await this.store.append(manager, keyIds, Date.now() + KEY_DENY_MS, reason);
    runAfterCommit(manager, async () => {
      for (const id of keyIds) this.keys.invalidateKey(id);
      await this.publish(event);
    });
  }

  private async publish(event: RevocationEvent): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`bus did not confirm within ${KEY_PUBLISH_TIMEOUT_MS} ms`)), KEY_PUBLISH_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.bus.publish(event), timeout]);
    } catch (err) {
      // Committed already: edges learn of it when the bus catches up from PostgreSQL.
      this.logger.error({ err, seq: event.seq, reason: event.reason }, 'key revocation committed but not published; the bus will recover it');
    } finally {
      clearTimeout(timer);
    }
  }
}
