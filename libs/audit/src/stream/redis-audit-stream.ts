import { hostname } from 'node:os';

import Redis from 'ioredis';
import type { Registry } from 'prom-client';

import type { Logger } from '@signet/observability';

import { AuditBuffer } from '../audit-buffer';
import { AUDIT_OUTCOMES, AUDIT_TYPES, type AuditEventInput, type AuditRecorder } from '../audit-event';

/**
 * Standalone edges have no database: they send their CONNECT decisions in
 * batches to a Redis stream (one entry per batch), which the processes with
 * the audit log's database read with a consumer group (each entry written
 * once, whichever replica reads it). Redis is what such an edge already needs
 * (revocations, the cluster bus); the stream keeps batches while no reader is
 * up, trimmed to about STREAM_MAX_ENTRIES so it cannot grow without bound.
 */
export const auditStreamKey = (keyPrefix: string): string => `${keyPrefix}audit:events`;
const GROUP = 'audit-writers';
/** Entries kept at most (approximate trim), each a batch of at most BATCH events. */
const STREAM_MAX_ENTRIES = 1000;
const BATCH = 200;

interface StreamOptions {
  url: string;
  keyPrefix: string;
  logger: Logger;
}

/** The AuditRecorder of a standalone edge: buffered in memory (bounded), flushed to the stream in batches. */
export class RedisAuditRecorder implements AuditRecorder {
  private readonly redis: Redis;
  private readonly buffer: AuditBuffer<AuditEventInput>;
  private readonly key: string;

  constructor(options: StreamOptions & { flushMs: number; capacity: number; registry?: Registry }) {
    this.key = auditStreamKey(options.keyPrefix);
    // Commands fail fast while Redis is away: the buffer keeps the batch for the next flush.
    this.redis = new Redis(options.url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
    this.redis.on('error', () => undefined);
    void this.redis.connect().catch(() => undefined);
    this.buffer = new AuditBuffer({
      write: async (batch) => {
        await this.redis.xadd(this.key, 'MAXLEN', '~', String(STREAM_MAX_ENTRIES), '*', 'events', JSON.stringify(batch));
      },
      capacity: options.capacity,
      batchSize: BATCH,
      flushMs: options.flushMs,
      logger: options.logger,
      registry: options.registry,
      sink: 'redis',
    });
  }

  record(event: AuditEventInput): void {
    this.buffer.push(event);
  }

  recordMany(events: readonly AuditEventInput[]): void {
    for (const event of events) this.buffer.push(event);
  }

  flush(): Promise<void> {
    return this.buffer.flush();
  }

  async close(): Promise<void> {
    await this.buffer.close();
    this.redis.disconnect();
  }
}

/** Reads the edges' batches from the stream into this process's recorder until stopped. */
export class RedisAuditConsumer {
  private readonly redis: Redis;
  private readonly key: string;
  private readonly consumer = `${hostname()}-${process.pid}`;
  private stopping = false;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly options: StreamOptions & { recorder: AuditRecorder },
  ) {
    this.key = auditStreamKey(options.keyPrefix);
    this.redis = new Redis(options.url, { lazyConnect: true, maxRetriesPerRequest: null });
    this.redis.on('error', () => undefined);
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    // Ends a blocking read at once.
    this.redis.disconnect();
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        if (this.redis.status === 'wait') await this.redis.connect();
        await this.ensureGroup();
        const reply = (await this.redis.xreadgroup('GROUP', GROUP, this.consumer, 'COUNT', '20', 'BLOCK', '1000', 'STREAMS', this.key, '>')) as
          | Array<[string, Array<[string, string[]]>]>
          | null;
        failures = 0;
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) {
            this.options.recorder.recordMany(parseBatch(fields));
            await this.redis.xack(this.key, GROUP, id);
          }
        }
      } catch (err) {
        if (this.stopping) return;
        // The group goes with the stream if Redis lost its data.
        this.groupReady = false;
        if (failures++ === 0) this.options.logger.warn({ err }, 'could not read audit events from Redis; retrying');
        await new Promise((r) => setTimeout(r, Math.min(5000, 200 * failures)).unref());
      }
    }
  }

  private groupReady = false;

  private async ensureGroup(): Promise<void> {
    if (this.groupReady) return;
    try {
      // From the start of the stream: batches sent before any reader existed are read too.
      await this.redis.xgroup('CREATE', this.key, GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
    }
    this.groupReady = true;
  }
}

/** A stream entry's events, each checked for the fields the log needs (the stream is internal, but not trusted blindly). */
function parseBatch(fields: string[]): AuditEventInput[] {
  const index = fields.indexOf('events');
  if (index < 0) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(fields[index + 1] ?? '[]');
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.flatMap((raw: unknown) => {
    const e = raw as Partial<AuditEventInput> & { at?: string };
    if (!e || !AUDIT_TYPES.includes(e.type!) || !AUDIT_OUTCOMES.includes(e.outcome!) || typeof e.action !== 'string' || typeof e.actor?.kind !== 'string') return [];
    const at = typeof e.at === 'string' ? new Date(e.at) : undefined;
    return [{ ...(e as AuditEventInput), at: at && !Number.isNaN(at.getTime()) ? at : undefined }];
  });
}
