import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';

import { LOGGER } from '@signet/observability';
import type { Logger } from '@signet/observability';

import { AUDIT_RECORDER, type AuditRecorder } from '../audit-event';
import { AUDIT_OPTIONS, type AuditOptions } from '../options';
import { RedisAuditConsumer } from './redis-audit-stream';

/** Reads the CONNECT decisions of standalone edges from Redis into the log (only with REDIS_URL). */
@Injectable()
export class AuditStreamReader implements OnModuleInit, OnModuleDestroy {
  private consumer: RedisAuditConsumer | null = null;

  constructor(
    @Inject(AUDIT_OPTIONS) private readonly options: AuditOptions,
    @Inject(AUDIT_RECORDER) private readonly recorder: AuditRecorder,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    const redis = this.options.redis;
    if (!redis) return;
    this.consumer = new RedisAuditConsumer({ ...redis, recorder: this.recorder, logger: this.logger.child({ component: 'audit-stream' }) });
    this.consumer.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.consumer?.stop();
  }
}
