import { Inject, Injectable, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import { HOUR_MS, UsageAggregator, UsageCounter, UsageDelta } from '@signet/contracts';
import { DATA_SOURCE, LOGGER } from '@signet/http';
import type { Logger } from '@signet/observability';

import { API_KEYS_OPTIONS, ApiKeysOptions, resolveOptions } from './options';

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

interface UsageRow {
  bucket_start: Date;
  api_calls: string;
  mqtt_connects: string;
  messages_published: string;
  bytes_published: string;
  denials: string;
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
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
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
    const rows = deltas.map((d) => ({
      key_id: d.keyId,
      bucket_start: new Date(d.bucketStart).toISOString(),
      api_calls: d.apiCalls,
      mqtt_connects: d.mqttConnects,
      messages_published: d.messagesPublished,
      bytes_published: d.bytesPublished,
      denials: d.denials,
    }));
    try {
      // The join drops counts of keys that no longer exist instead of failing the whole batch on the foreign key.
      await this.dataSource.query(
        `INSERT INTO api_key_usage (key_id, bucket_start, api_calls, mqtt_connects, messages_published, bytes_published, denials)
         SELECT d.key_id, d.bucket_start, d.api_calls, d.mqtt_connects, d.messages_published, d.bytes_published, d.denials
           FROM jsonb_to_recordset($1::jsonb) AS d(key_id varchar, bucket_start timestamptz, api_calls bigint,
                mqtt_connects bigint, messages_published bigint, bytes_published bigint, denials bigint)
           JOIN api_keys k ON k.id = d.key_id
         ON CONFLICT (key_id, bucket_start) DO UPDATE SET
           api_calls = api_key_usage.api_calls + EXCLUDED.api_calls,
           mqtt_connects = api_key_usage.mqtt_connects + EXCLUDED.mqtt_connects,
           messages_published = api_key_usage.messages_published + EXCLUDED.messages_published,
           bytes_published = api_key_usage.bytes_published + EXCLUDED.bytes_published,
           denials = api_key_usage.denials + EXCLUDED.denials`,
        [JSON.stringify(rows)],
      );
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
    const rows: UsageRow[] = await this.dataSource.query(
      `SELECT bucket_start, api_calls, mqtt_connects, messages_published, bytes_published, denials
         FROM api_key_usage WHERE key_id = $1 AND bucket_start >= $2 AND bucket_start < $3`,
      [keyId, new Date(start), new Date(end)],
    );
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
    for (const r of rows) {
      addTo(r.bucket_start.getTime(), {
        apiCalls: Number(r.api_calls),
        mqttConnects: Number(r.mqtt_connects),
        messagesPublished: Number(r.messages_published),
        bytesPublished: Number(r.bytes_published),
        denials: Number(r.denials),
      });
    }
    for (const d of this.pending.pendingFor(keyId)) addTo(d.bucketStart, d);
    return [...buckets.values()];
  }
}
