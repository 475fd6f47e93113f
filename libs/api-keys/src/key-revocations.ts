import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { runAfterCommit } from '@signet/persistence';
import { RevocationPublisher } from '@signet/revocation';

import { ApiKeysService } from './usecases/verify/api-keys.service';

/**
 * How long a key's revocation stays on the bus and in edge deny lists. A
 * revoked key is refused by the key service for good (the row says so); the
 * deny entry only has to outlive every cached verdict (≤ 60 s) and an edge's
 * catch-up after a disconnection, so an hour is ample.
 */
export const KEY_DENY_MS = 3_600_000;

export const KEY_REVOCATION_REASONS = {
  revoked: 'api_key_revoked',
  rotated: 'api_key_rotated',
  expired: 'api_key_expired',
} as const;

/**
 * Key revocations through the one RevocationPublisher: recorded in the
 * caller's transaction (with the `api_keys` update), published after commit
 * as `{ seq, credentialIds: [key ids], … }`. Every process drops cached
 * verdicts of those keys, and every edge closes their live sessions
 * (credentialId = key id) and refuses them.
 */
@Injectable()
export class KeyRevocations {
  constructor(
    @Inject(RevocationPublisher) private readonly publisher: RevocationPublisher<EntityManager>,
    private readonly keys: ApiKeysService,
  ) {}

  /** Must run inside `manager`'s transaction; publishes once it commits. */
  async record(manager: EntityManager, keyIds: readonly string[], reason: string): Promise<void> {
    if (keyIds.length === 0) return;
    // This process's own verdicts go first, without waiting for the bus (queued before the publish).
    runAfterCommit(manager, () => {
      for (const id of keyIds) this.keys.invalidateKey(id);
    });
    await this.publisher.record(manager, { credentialIds: keyIds, until: Date.now() + KEY_DENY_MS, reason });
  }
}
