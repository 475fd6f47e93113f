import { Inject, Injectable, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';

import { HOUR_MS, UsageAggregator, UsageCounter, UsageDelta } from '@signet/contracts';
import type { Logger } from '@signet/observability';
import { LOGGER } from '@signet/observability';

import { API_KEYS_OPTIONS, ApiKeysOptions, resolveOptions } from '../../options';
import { USAGE_REPOSITORY, UsageRepository } from '../../usage.repository';

export type UsageInterval = 'hour' | 'day';
export const DAY_MS = 24 * HOUR_MS;

export interface UsageBucket {
  start: number;
  apiCalls: number;
  mqttConnects: number;
  messagesPublished: number;
  bytesPublished: number;
  denials: number;
}

/**
 * Usage analytics per key: REST calls, MQTT connects, messages and bytes
 * published, denials. Counted in memory (a Map increment; edges report
 * theirs over gRPC), added to PostgreSQL every `usageFlushIntervalMs` with
 * additive upserts, and flushed once more on a clean stop: nothing counted
 * is lost. A failed flush puts its counts back for the next one.
 */
@Injectable()
export class UsageService implements OnModuleInit, OnModuleDestroy {
  private readonly pending = new UsageAggregator();
  private readonly options: ApiKeysOptions;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    @Inject(USAGE_REPOSITORY) private readonly repository: UsageRepository,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() @Inject(API_KEYS_OPTIONS) options?: Partial<ApiKeysOptions>,
  ) {
    this.options = resolveOptions(options);
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), this.options.usageFlushIntervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  record(keyId: string, counter: UsageCounter, amount = 1): void {
    this.pending.record(keyId, counter, amount);
  }

  /** Counts reported by an edge. */
  add(deltas: readonly UsageDelta[]): void {
    this.pending.add(deltas);
  }

  /** Writes pending counts; flushes never overlap (each waits for the previous one). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private async write(): Promise<void> {
    const deltas = this.pending.drain();
    if (deltas.length === 0) return;
    try {
      await this.repository.add(deltas);
    } catch (err) {
      this.pending.restore(deltas);
      this.logger.warn({ err, buckets: deltas.length }, 'could not write API key usage; will retry');
    }
  }

  /**
   * Buckets of [from, to) at the given interval (UTC), every bucket present
   * (zeros included); counts not yet flushed by this process are included.
   */
  async query(keyId: string, from: number, to: number, interval: UsageInterval): Promise<UsageBucket[]> {
    const step = interval === 'hour' ? HOUR_MS : DAY_MS;
    const start = Math.floor(from / step) * step;
    const end = Math.ceil(to / step) * step;
    const rows = await this.repository.rows(keyId, new Date(start), new Date(end));
    const buckets = new Map<number, UsageBucket>();
    for (let t = start; t < end; t += step) {
      buckets.set(t, { start: t, apiCalls: 0, mqttConnects: 0, messagesPublished: 0, bytesPublished: 0, denials: 0 });
    }
    const addTo = (at: number, d: Omit<UsageBucket, 'start'>) => {
      const b = buckets.get(Math.floor(at / step) * step);
      if (!b) return;
      b.apiCalls += d.apiCalls;
      b.mqttConnects += d.mqttConnects;
      b.messagesPublished += d.messagesPublished;
      b.bytesPublished += d.bytesPublished;
      b.denials += d.denials;
    };
    for (const r of rows) addTo(r.bucketStart.getTime(), r);
    for (const d of this.pending.pendingFor(keyId)) addTo(d.bucketStart, d);
    return [...buckets.values()];
  }
}
