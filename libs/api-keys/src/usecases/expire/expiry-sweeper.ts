import { Inject, Injectable, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import { DATA_SOURCE, LOGGER } from '@signet/http';
import type { Logger } from '@signet/observability';
import { inTransaction } from '@signet/persistence';

import { KEY_REVOCATION_REASONS, KeyRevocations } from './key-revocations';
import { returningRows } from './sql';
import { API_KEYS_OPTIONS, ApiKeysOptions, resolveOptions } from './options';

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
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly revocations: KeyRevocations,
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
    return inTransaction(this.dataSource, async (manager) => {
      const rows = returningRows<{ id: string }>(await manager.query(
        `UPDATE api_keys SET expiry_enforced_at = now()
          WHERE id IN (SELECT id FROM api_keys
                        WHERE expires_at <= now() AND expiry_enforced_at IS NULL AND revoked_at IS NULL
                        ORDER BY expires_at LIMIT 500 FOR UPDATE SKIP LOCKED)
          RETURNING id`,
      ));
      if (rows.length === 0) return 0;
      await this.revocations.record(
        manager,
        rows.map((r) => r.id),
        KEY_REVOCATION_REASONS.expired,
      );
      this.logger.info({ keys: rows.length }, 'API keys expired (rotation grace or expires_at): sessions closed');
      return rows.length;
    });
  }
}
