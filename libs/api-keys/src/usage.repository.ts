import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import type { UsageDelta } from '@signet/contracts';
import { DATA_SOURCE } from '@signet/persistence';

/** One stored hourly row of a key's counts. */
export interface StoredUsage {
  bucketStart: Date;
  apiCalls: number;
  mqttConnects: number;
  messagesPublished: number;
  bytesPublished: number;
  denials: number;
}

/** The SQL of usage analytics (`api_key_usage`). */
export interface UsageRepository {
  /** Adds the deltas to their buckets (additive upserts); counts of keys that no longer exist are dropped. */
  add(deltas: readonly UsageDelta[]): Promise<void>;
  /** The stored rows of one key with `from <= bucket_start < to`. */
  rows(keyId: string, from: Date, to: Date): Promise<StoredUsage[]>;
}

export const USAGE_REPOSITORY = Symbol('USAGE_REPOSITORY');

interface UsageRow {
  bucket_start: Date;
  api_calls: string;
  mqtt_connects: string;
  messages_published: string;
  bytes_published: string;
  denials: string;
}

@Injectable()
export class TypeOrmUsageRepository implements UsageRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async add(deltas: readonly UsageDelta[]): Promise<void> {
    const rows = deltas.map((d) => ({
      key_id: d.keyId,
      bucket_start: new Date(d.bucketStart).toISOString(),
      api_calls: d.apiCalls,
      mqtt_connects: d.mqttConnects,
      messages_published: d.messagesPublished,
      bytes_published: d.bytesPublished,
      denials: d.denials,
    }));
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
  }

  async rows(keyId: string, from: Date, to: Date): Promise<StoredUsage[]> {
    const rows: UsageRow[] = await this.dataSource.query(
      `SELECT bucket_start, api_calls, mqtt_connects, messages_published, bytes_published, denials
         FROM api_key_usage WHERE key_id = $1 AND bucket_start >= $2 AND bucket_start < $3`,
      [keyId, from, to],
    );
    return rows.map((r) => ({
      bucketStart: r.bucket_start,
      apiCalls: Number(r.api_calls),
      mqttConnects: Number(r.mqtt_connects),
      messagesPublished: Number(r.messages_published),
      bytesPublished: Number(r.bytes_published),
      denials: Number(r.denials),
    }));
  }
}
