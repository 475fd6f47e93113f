import { Inject, Injectable, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';

import { LOGGER } from '@signet/observability';
import type { Logger } from '@signet/observability';

import { API_KEYS_REPOSITORY, ApiKeysRepository } from '../../api-keys.repository';
import { KEY_REVOCATION_RECORDER, KeyRevocationRecorder } from '../../key-revocation-recorder';
import { KEY_REVOCATION_REASONS } from '../../key-revocations';
import { API_KEYS_OPTIONS, ApiKeysOptions, resolveOptions } from '../../options';

/** Keys claimed per pass (and transaction). */
const SWEEP_BATCH = 500;

/**
 * Turns the end of a key's validity (its `expires_at`, which rotation sets to
 * the end of the grace period) into a revocation on the bus, so every edge
 * closes the key's live sessions and every cache drops its verdict. Polls
 * every `expirySweepIntervalMs`; rows are claimed with FOR UPDATE SKIP
 * LOCKED and marked `expiry_enforced_at` in the same transaction as the
 * revocation, so replicas never publish one twice and a crash publishes it
 * on the next pass.
 */
@Injectable()
export class KeyExpirySweeper implements OnModuleInit, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | null = null;
  private readonly options: ApiKeysOptions;

  constructor(
    @Inject(API_KEYS_REPOSITORY) private readonly repository: ApiKeysRepository,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(KEY_REVOCATION_RECORDER) private readonly revocations: KeyRevocationRecorder,
    @Optional() @Inject(API_KEYS_OPTIONS) options?: Partial<ApiKeysOptions>,
  ) {
    this.options = resolveOptions(options);
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.sweep(), this.options.expirySweepIntervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; returns how many keys it published as expired. */
  sweep(): Promise<number> {
    this.running ??= this.pass()
      .catch((err: unknown) => {
        this.logger.warn({ err }, 'API key expiry sweep failed; retrying on the next pass');
        return 0;
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  private pass(): Promise<number> {
    return this.repository.transaction(async (tx) => {
      const ids = await tx.claimExpired(SWEEP_BATCH);
      if (ids.length === 0) return 0;
      await this.revocations.record(tx, ids, KEY_REVOCATION_REASONS.expired);
      this.logger.info({ keys: ids.length }, 'API keys expired (rotation grace or expires_at): sessions closed');
      return ids.length;
    });
  }
}
