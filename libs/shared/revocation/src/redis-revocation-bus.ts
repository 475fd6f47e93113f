import Redis, { type RedisOptions } from 'ioredis';

import { RevocationFanout } from './fanout';
import { DISCONNECT_TIMEOUT_MS, disconnect, errorMessage, sleep } from './redis/connection';
import { busKeys, type BusContext, type BusKeys, type RevocationBusRole } from './redis/context';
import { RevocationOutbox } from './redis/outbox';
import { RevocationStateCheck } from './redis/state-check';
import { RevocationStreamReader } from './redis/stream-reader';
import {
  consoleRevocationLogger,
  toRevocationEvent,
  type RevocationBus,
  type RevocationBusHealth,
  type RevocationEvent,
  type RevocationHandler,
  type RevocationLogger,
  type RevocationSource,
} from './types';

export type { RevocationBusRole } from './redis/context';
export { RevocationPublishTimeoutError } from './redis/outbox';

export interface RedisRevocationBusOptions {
  /** e.g. `redis://user:pass@host:6379/0`. */
  url?: string;
  /** ioredis options (merged over `url`); the bus overrides the reconnect/queue settings it depends on. */
  redis?: RedisOptions;
  /** Prefix for the stream/channel/epoch keys (default `signet:`). */
  keyPrefix?: string;
  role: RevocationBusRole;
  /** Lets a publisher rebuild the stream when Redis lost it (PostgreSQL-backed in production). */
  source?: RevocationSource;
  /** Not known up to date for longer than this → `health().stale` (default 30 000). */
  maxStalenessMs?: number;
  logger?: RevocationLogger;
  /** Subscriber catch-up/liveness poll and publisher retry period (default 1000). */
  pollIntervalMs?: number;
  /** How often a publisher checks whether Redis lost the revocation state (default 3000). */
  rebuildCheckIntervalMs?: number;
  /** TTL of the rebuild lock (default 30 000). */
  rebuildLockMs?: number;
  /**
   * `publish()` rejects after this long without Redis; the event keeps being
   * retried. It bounds how long a revoke waits (default {@link DEFAULT_PUBLISH_TIMEOUT_MS}).
   */
  publishTimeoutMs?: number;
  /** Upper bound of the reconnect backoff (default 2000). */
  reconnectMaxDelayMs?: number;
  /** A Redis command slower than this counts as a dead connection (default 5000). */
  commandTimeoutMs?: number;
  /** `start()` resolves after the first sync, or after this long with a warning (default 10 000). */
  startTimeoutMs?: number;
  /** `MAXLEN ~` of the stream (default 100 000). */
  streamMaxLen?: number;
  /**
   * A subscriber that has never seen the epoch key (set by a publisher with a
   * `source` after (re)building the stream) cannot know the stream is complete,
   * so it stays stale (default true). Set false only for deployments with no
   * source-backed publisher.
   */
  requireEpoch?: boolean;
  /**
   * On start, a publisher with a `source` re-publishes active revocations that
   * are missing from the stream (e.g. a process died between the DB commit and
   * the publish). Default true; costs one scan of the stream per start.
   */
  reconcileOnStart?: boolean;
  /**
   * How often a publisher whose `source` keeps an outbox (`listUnpublished`) relays the revocations
   * committed but not yet marked published: a process that died before publishing, a statement that
   * reached PostgreSQL only after its request had given up (a stalled connection). Checked with the
   * state check (rebuildCheckIntervalMs), so at most that often. Default 2000; 0 turns it off.
   */
  relayIntervalMs?: number;
  now?: () => number;
}

/** A revoke answers once committed; `publish()` settles within this long (its callers do not wait for it). */
export const DEFAULT_PUBLISH_TIMEOUT_MS = 2_000;

type ConnectionName = 'cmd' | 'sub';

const LOG_THROTTLE_MS = 30_000;

/**
 * Revocation bus over Redis: a stream (`<prefix>revocations`) is the durable
 * log, pub/sub on the channel of the same name is the fast path. This class
 * owns the two connections and the timer; the work is done by
 *  - the outbox (redis/outbox.ts): publishes, in order, once per seq, retried;
 *  - the state check (redis/state-check.ts): rebuild after Redis lost its
 *    data, reconcile on start, relay of the source's outbox;
 *  - the stream reader (redis/stream-reader.ts): the subscriber side.
 */
export class RedisRevocationBus implements RevocationBus {
  readonly streamKey: string;
  readonly channel: string;
  readonly epochKey: string;
  readonly lockKey: string;

  private readonly keys: BusKeys;
  private readonly role: RevocationBusRole;
  private readonly logger: RevocationLogger;
  private readonly now: () => number;
  private readonly fanout: RevocationFanout;
  private readonly maxStalenessMs: number;
  private readonly pollIntervalMs: number;
  private readonly rebuildCheckIntervalMs: number;
  private readonly publishTimeoutMs: number;
  private readonly reconnectMaxDelayMs: number;
  private readonly commandTimeoutMs: number;
  private readonly startTimeoutMs: number;

  private readonly outbox: RevocationOutbox;
  private readonly stateCheck: RevocationStateCheck;
  private readonly reader: RevocationStreamReader;

  private cmd: Redis | null = null;
  private sub: Redis | null = null;
  private subscribed = false;
  private started = false;
  private closing = false;
  private closed = false;
  private tickTimer: NodeJS.Timeout | null = null;
  private lastSyncAt: number | null = null;
  private reportedStale = true;
  private pingInFlight = false;
  private readonly lastLogAt = new Map<string, number>();
  private readonly lostConnection = new Set<ConnectionName>();

  constructor(private readonly options: RedisRevocationBusOptions) {
    const role = options.role;
    if (role !== 'publisher' && role !== 'subscriber' && role !== 'both') {
      throw new TypeError(`RedisRevocationBus: invalid role ${String(role)}`);
    }
    if (options.source && role === 'subscriber') {
      throw new TypeError('RedisRevocationBus: a source is only used by a publisher (role publisher or both)');
    }
    this.role = role;
    this.keys = busKeys(options.keyPrefix ?? 'signet:');
    this.streamKey = this.keys.stream;
    this.channel = this.keys.channel;
    this.epochKey = this.keys.epoch;
    this.lockKey = this.keys.lock;
    this.logger = options.logger ?? consoleRevocationLogger;
    this.now = options.now ?? Date.now;
    this.fanout = new RevocationFanout(this.logger, this.now);
    this.maxStalenessMs = options.maxStalenessMs ?? 30_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.rebuildCheckIntervalMs = options.rebuildCheckIntervalMs ?? 3000;
    this.publishTimeoutMs = options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
    this.reconnectMaxDelayMs = options.reconnectMaxDelayMs ?? 2000;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 5000;
    this.startTimeoutMs = options.startTimeoutMs ?? 10_000;
    const streamMaxLen = options.streamMaxLen ?? 100_000;
    const ctx = this.context();
    this.outbox = new RevocationOutbox(ctx, this.publishTimeoutMs, streamMaxLen);
    this.stateCheck = new RevocationStateCheck(ctx, this.outbox, {
      rebuildLockMs: options.rebuildLockMs ?? 30_000,
      streamMaxLen,
      reconcileOnStart: options.reconcileOnStart ?? true,
      relayIntervalMs: options.relayIntervalMs ?? 2000,
    });
    this.reader = new RevocationStreamReader(ctx, options.requireEpoch ?? true);
    if (!this.isPublisher) this.stateCheck.initial.resolve();
    if (!this.isSubscriber) this.reader.initial.resolve();
  }

  private get isPublisher(): boolean {
    return this.role !== 'subscriber';
  }

  private get isSubscriber(): boolean {
    return this.role !== 'publisher';
  }

  async start(): Promise<void> {
    if (this.closing) throw new Error('RedisRevocationBus: closed');
    if (this.started) return;
    this.started = true;
    this.cmd = this.connect('cmd');
    if (this.isSubscriber) this.sub = this.connect('sub');
    this.tickTimer = setInterval(() => this.tick(), this.pollIntervalMs);
    this.tickTimer.unref();

    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), this.startTimeoutMs);
    });
    const ready = Promise.all([this.reader.initial.promise, this.stateCheck.initial.promise]).then(() => false);
    const late = await Promise.race([ready, timedOut]);
    clearTimeout(timer);
    if (late && !this.closing) {
      // Not fatal: the bus keeps connecting in the background and reports itself stale meanwhile.
      this.logger.warn(
        { role: this.role, startTimeoutMs: this.startTimeoutMs },
        'revocation bus not in sync with Redis yet; continuing to retry in the background',
      );
    }
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.tickTimer = null;
    // Last chance to get queued revocations out; bounded so shutdown cannot hang.
    const flushDeadline = this.now() + Math.min(1000, this.publishTimeoutMs);
    while (this.outbox.size > 0 && this.cmd?.status === 'ready' && this.now() < flushDeadline) {
      void this.outbox.flush();
      await sleep(10);
    }
    this.closed = true;
    this.outbox.abandon();
    this.reader.initial.resolve();
    this.stateCheck.initial.resolve();
    this.fanout.close();
    const connections = [this.cmd, this.sub].filter((c): c is Redis => c !== null);
    this.cmd = null;
    this.sub = null;
    await Promise.all(connections.map((c) => disconnect(c)));
  }

  async publish(event: RevocationEvent): Promise<void> {
    if (!this.isPublisher) throw new Error('RedisRevocationBus: role "subscriber" cannot publish');
    if (this.closing) throw new Error('RedisRevocationBus: closed');
    const copy = toRevocationEvent(event);
    // Role "both" (the all-in-one): this process's own handlers (its edge) get the event now, as the
    // in-memory bus would, instead of after the XADD/PUBLISH round trip and the pub/sub message coming
    // back (~0.5 ms of the revoke-to-disconnect time). The caller has committed it already; the copy
    // arriving through Redis later is an exact repeat, which the fanout does not deliver again.
    if (this.isSubscriber) this.fanout.deliver(copy);
    await this.outbox.push(copy);
  }

  subscribe(handler: RevocationHandler): () => void {
    if (!this.isSubscriber) throw new Error('RedisRevocationBus: role "publisher" does not receive events');
    return this.fanout.subscribe(handler);
  }

  health(): RevocationBusHealth {
    const connected = !this.closed && this.isConnected();
    const lastSyncAt = this.lastSyncAt;
    const stale = this.closed || lastSyncAt === null || this.now() - lastSyncAt > this.maxStalenessMs;
    return { connected, lastSyncAt, stale };
  }

  /** What the outbox, the state check and the stream reader see of this bus. */
  private context(): BusContext {
    return {
      keys: this.keys,
      role: this.role,
      logger: this.logger,
      now: this.now,
      fanout: this.fanout,
      source: this.options.source,
      readyCmd: () => (this.cmd?.status === 'ready' ? this.cmd : null),
      isClosing: () => this.closing,
      isClosed: () => this.closed,
      throttledLog: (key, level, fields, msg) => this.throttledLog(key, level, fields, msg),
      dropIfTimedOut: (conn, err) => this.dropIfTimedOut(conn, err),
      markSynced: (at) => {
        this.lastSyncAt = at;
      },
      reportStaleness: () => this.reportStaleness(),
    };
  }

  // ---------------------------------------------------------------- connections

  private connect(name: ConnectionName): Redis {
    const options: RedisOptions = {
      ...this.options.redis,
      connectionName: `signet-revocation-${name}`,
      // Keys are prefixed by the bus itself; an ioredis prefix would not apply to channels or Lua.
      keyPrefix: '',
      lazyConnect: false,
      // Fail fast while disconnected: every caller here retries on reconnect/tick instead.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      // The bus re-subscribes itself so it knows when the subscription is active again.
      autoResubscribe: false,
      commandTimeout: this.commandTimeoutMs,
      // How long ioredis waits for a closing socket before destroying it; short so close() is quick.
      disconnectTimeout: DISCONNECT_TIMEOUT_MS,
      keepAlive: 10_000,
      retryStrategy: (attempt: number) => this.backoff(attempt),
    };
    const conn = this.options.url ? new Redis(this.options.url, options) : new Redis(options);
    conn.on('error', (err: Error) => {
      this.throttledLog(`error:${name}`, 'warn', { err: err.message, connection: name }, 'revocation bus Redis connection error');
    });
    conn.on('close', () => {
      if (name === 'sub') this.subscribed = false;
      if (!this.closing && !this.lostConnection.has(name)) {
        this.lostConnection.add(name);
        this.logger.warn({ connection: name, role: this.role }, 'revocation bus lost its Redis connection; reconnecting');
      }
    });
    conn.on('ready', () => {
      if (this.closing) return;
      if (this.lostConnection.delete(name)) {
        this.logger.info({ connection: name, role: this.role }, 'revocation bus reconnected to Redis');
      }
      if (name === 'sub') void this.onSubReady(conn);
      else this.onCmdReady();
    });
    if (name === 'sub') conn.on('message', (channel: string, message: string) => this.reader.onMessage(channel, message));
    return conn;
  }

  private backoff(attempt: number): number {
    // Exponential with jitter, capped, and never giving up: an edge must keep trying forever.
    const base = Math.min(this.reconnectMaxDelayMs, 50 * 2 ** Math.min(attempt, 16));
    return Math.max(10, Math.round(base * (0.5 + Math.random() / 2)));
  }

  private isConnected(): boolean {
    if (this.cmd?.status !== 'ready') return false;
    if (this.isSubscriber) return this.sub?.status === 'ready' && this.subscribed;
    return true;
  }

  private onCmdReady(): void {
    if (this.isSubscriber) this.reader.requestSync();
    if (this.isPublisher) {
      void this.outbox.flush();
      void this.stateCheck.check();
    }
  }

  private async onSubReady(conn: Redis): Promise<void> {
    try {
      await conn.subscribe(this.channel);
    } catch (err: unknown) {
      this.throttledLog('subscribe', 'warn', { err: errorMessage(err) }, 'revocation bus could not subscribe; retrying');
      this.dropIfTimedOut(conn, err);
      return;
    }
    if (conn !== this.sub || this.closing) return;
    this.subscribed = true;
    // Read the stream only now that the subscription is live, so nothing falls between the two.
    this.reader.requestSync();
  }

  private tick(): void {
    if (this.closing) return;
    if (this.isSubscriber) {
      this.reader.requestSync();
      this.pingSubscriber();
    }
    if (this.isPublisher) {
      void this.outbox.flush();
      if (this.now() - this.stateCheck.lastCheckAt >= this.rebuildCheckIntervalMs) void this.stateCheck.check();
    }
    this.reportStaleness();
  }

  /** A half-open TCP connection stays silent; a ping that times out exposes it. */
  private pingSubscriber(): void {
    const sub = this.sub;
    if (!sub || sub.status !== 'ready' || this.pingInFlight) return;
    this.pingInFlight = true;
    sub
      .ping()
      .catch((err: unknown) => this.dropIfTimedOut(sub, err))
      .finally(() => {
        this.pingInFlight = false;
      });
  }

  private dropIfTimedOut(conn: Redis, err: unknown): void {
    if (!this.closing && errorMessage(err).includes('timed out') && conn.status === 'ready') {
      this.logger.warn({ err: errorMessage(err) }, 'revocation bus Redis command timed out; reconnecting');
      conn.disconnect(true);
    }
  }

  private reportStaleness(): void {
    const { stale, lastSyncAt } = this.health();
    if (stale === this.reportedStale) return;
    this.reportedStale = stale;
    if (stale) {
      this.logger.error(
        { role: this.role, lastSyncAt, maxStalenessMs: this.maxStalenessMs },
        'revocation bus is STALE: not in sync with Redis for longer than maxStalenessMs',
      );
    } else {
      this.logger.info({ role: this.role }, 'revocation bus in sync');
    }
  }

  private throttledLog(
    key: string,
    level: 'debug' | 'warn' | 'error',
    fields: Record<string, unknown>,
    msg: string,
  ): void {
    const now = this.now();
    const last = this.lastLogAt.get(key);
    if (last !== undefined && now - last < LOG_THROTTLE_MS) return;
    this.lastLogAt.set(key, now);
    if (level === 'debug') this.logger.debug?.(fields, msg);
    else this.logger[level](fields, msg);
  }
}

