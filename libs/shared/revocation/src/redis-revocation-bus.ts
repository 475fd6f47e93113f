import { randomBytes } from 'node:crypto';
import Redis, { type RedisOptions } from 'ioredis';
import { RevocationFanout } from './fanout';
import { compareStreamIds, isStreamId } from './stream-id';
import {
  consoleRevocationLogger,
  parseRevocationEvent,
  revocationEventProblem,
  toRevocationEvent,
  type RevocationBus,
  type RevocationBusHealth,
  type RevocationEvent,
  type RevocationHandler,
  type RevocationLogger,
  type RevocationSource,
} from './types';

export type RevocationBusRole = 'publisher' | 'subscriber' | 'both';

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
   * How often a publisher whose `source` lists recent entries (`listRecent`) re-publishes revocations
   * committed in the last {@link RELAY_WINDOW_MS} that the stream lacks: a statement that reached
   * PostgreSQL only after its request had given up (a stalled connection) commits with nobody left to
   * publish it. Checked with the state check (rebuildCheckIntervalMs), so at most that often. Default 5000; 0 turns it off.
   */
  relayIntervalMs?: number;
  now?: () => number;
}

/** How far back the relay looks: longer than any revoking transaction may take to commit. */
export const RELAY_WINDOW_MS = 60_000;
/** The stream is read this much further back than the log, for clocks that disagree. */
const RELAY_CLOCK_SLACK_MS = 30_000;

/** A revoke answers once committed and waits for the bus at most this long (its response then means "sent to the edges"). */
export const DEFAULT_PUBLISH_TIMEOUT_MS = 2_000;

/** `publish()` could not reach Redis in time; the event stays queued and is retried until `close()`. */
export class RevocationPublishTimeoutError extends Error {
  readonly queued = true;
  constructor(
    readonly seq: number,
    timeoutMs: number,
  ) {
    super(`revocation seq ${seq} not yet published to Redis after ${timeoutMs} ms; still retrying`);
    this.name = 'RevocationPublishTimeoutError';
  }
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}

interface OutboxItem {
  event: RevocationEvent;
  json: string;
  waiter?: { resolve(): void; reject(err: Error): void; timer: NodeJS.Timeout };
}

type ConnectionName = 'cmd' | 'sub';

/**
 * XADD and PUBLISH in one atomic step, with the new stream id inside the
 * published message so a subscriber can tell which stream entry a live message
 * was (and not deliver it twice when the stream replay reaches it).
 * KEYS[1] stream; ARGV[1] event JSON, ARGV[2] MAXLEN, ARGV[3] channel.
 */
const PUBLISH_SCRIPT = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[1])
redis.call('PUBLISH', ARGV[3], '{"id":"' .. id .. '","e":' .. ARGV[1] .. '}')
return id`;

/** Deletes the lock only if we still own it. KEYS[1] lock; ARGV[1] token. */
const RELEASE_LOCK_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const REPLAY_BATCH = 1000;
const REBUILD_BATCH = 500;
const MAX_FAST_IDS = 10_000;
const LOG_THROTTLE_MS = 30_000;
const DISCONNECT_TIMEOUT_MS = 100;

/**
 * Revocation bus over Redis: a stream (`<prefix>revocations`) is the durable
 * log, pub/sub on the channel of the same name is the fast path.
 *
 * Subscribers deliver pub/sub messages at once and treat the stream as the
 * truth: they read it from their cursor on start, on every (re)connect, after
 * every live message and every `pollIntervalMs`, so nothing published while
 * they were cut off or not yet running is missed. The epoch key
 * (`<prefix>revocations:epoch`) changes whenever a publisher rebuilt the
 * stream from its `source` (Redis lost its data); subscribers then replay the
 * stream from the start.
 */
export class RedisRevocationBus implements RevocationBus {
  readonly streamKey: string;
  readonly channel: string;
  readonly epochKey: string;
  readonly lockKey: string;

  private readonly role: RevocationBusRole;
  private readonly logger: RevocationLogger;
  private readonly now: () => number;
  private readonly fanout: RevocationFanout;
  private readonly maxStalenessMs: number;
  private readonly pollIntervalMs: number;
  private readonly rebuildCheckIntervalMs: number;
  private readonly rebuildLockMs: number;
  private readonly publishTimeoutMs: number;
  private readonly reconnectMaxDelayMs: number;
  private readonly commandTimeoutMs: number;
  private readonly startTimeoutMs: number;
  private readonly streamMaxLen: number;
  private readonly requireEpoch: boolean;
  private readonly reconcileOnStart: boolean;

  private cmd: Redis | null = null;
  private sub: Redis | null = null;
  private subscribed = false;
  private started = false;
  private closing = false;
  private closed = false;
  private tickTimer: NodeJS.Timeout | null = null;
  private lastSyncAt: number | null = null;
  private reportedStale = true;
  private readonly lastLogAt = new Map<string, number>();
  private readonly lostConnection = new Set<ConnectionName>();

  // Subscriber state.
  /** Last stream id read from the stream (exclusive start of the next read); null = from the beginning. */
  private cursor: string | null = null;
  /** Epoch seen on the last sync; undefined before the first one. */
  private knownEpoch: string | null | undefined = undefined;
  private sawEpoch = false;
  /** Stream ids already delivered from pub/sub, skipped when the stream read reaches them. */
  private readonly fastIds = new Set<string>();
  private syncRunning = false;
  private syncAgain = false;
  private pingInFlight = false;
  private readonly initialSync = deferred();

  // Publisher state.
  private readonly outbox: OutboxItem[] = [];
  private flushing = false;
  private lastWrittenId: string | null = null;
  private checking = false;
  private lastCheckAt = 0;
  private reconciled = false;
  private readonly relayIntervalMs: number;
  private lastRelayAt = 0;
  private readonly initialCheck = deferred();

  constructor(private readonly options: RedisRevocationBusOptions) {
    const role = options.role;
    if (role !== 'publisher' && role !== 'subscriber' && role !== 'both') {
      throw new TypeError(`RedisRevocationBus: invalid role ${String(role)}`);
    }
    if (options.source && role === 'subscriber') {
      throw new TypeError('RedisRevocationBus: a source is only used by a publisher (role publisher or both)');
    }
    this.role = role;
    const prefix = options.keyPrefix ?? 'signet:';
    this.streamKey = `${prefix}revocations`;
    this.channel = this.streamKey;
    this.epochKey = `${prefix}revocations:epoch`;
    this.lockKey = `${prefix}revocations:rebuild-lock`;
    this.logger = options.logger ?? consoleRevocationLogger;
    this.now = options.now ?? Date.now;
    this.fanout = new RevocationFanout(this.logger, this.now);
    this.maxStalenessMs = options.maxStalenessMs ?? 30_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.rebuildCheckIntervalMs = options.rebuildCheckIntervalMs ?? 3000;
    this.rebuildLockMs = options.rebuildLockMs ?? 30_000;
    this.publishTimeoutMs = options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
    this.reconnectMaxDelayMs = options.reconnectMaxDelayMs ?? 2000;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 5000;
    this.startTimeoutMs = options.startTimeoutMs ?? 10_000;
    this.streamMaxLen = options.streamMaxLen ?? 100_000;
    this.requireEpoch = options.requireEpoch ?? true;
    this.reconcileOnStart = options.reconcileOnStart ?? true;
    this.relayIntervalMs = options.relayIntervalMs ?? 5000;
    if (!this.isPublisher) this.initialCheck.resolve();
    if (!this.isSubscriber) this.initialSync.resolve();
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
    const ready = Promise.all([this.initialSync.promise, this.initialCheck.promise]).then(() => false);
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
    while (this.outbox.length > 0 && this.cmd?.status === 'ready' && this.now() < flushDeadline) {
      void this.flushOutbox();
      await sleep(10);
    }
    this.closed = true;
    if (this.outbox.length > 0) {
      this.logger.error(
        { seqs: this.outbox.map((item) => item.event.seq) },
        'revocation bus closed with unpublished revocations; they are committed in PostgreSQL and will be re-published by a source-backed publisher on its next start',
      );
    }
    for (const item of this.outbox.splice(0)) {
      if (!item.waiter) continue;
      clearTimeout(item.waiter.timer);
      item.waiter.reject(new Error(`revocation bus closed before seq ${item.event.seq} was published`));
    }
    this.initialSync.resolve();
    this.initialCheck.resolve();
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
    await new Promise<void>((resolve, reject) => {
      const item: OutboxItem = { event: copy, json: JSON.stringify(copy) };
      const timer = setTimeout(() => {
        item.waiter = undefined;
        reject(new RevocationPublishTimeoutError(copy.seq, this.publishTimeoutMs));
      }, this.publishTimeoutMs);
      item.waiter = { resolve, reject, timer };
      this.outbox.push(item);
      void this.flushOutbox();
    });
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
    if (name === 'sub') conn.on('message', (channel: string, message: string) => this.onMessage(channel, message));
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
    if (this.isSubscriber) this.requestSync();
    if (this.isPublisher) {
      void this.flushOutbox();
      void this.checkState();
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
    this.requestSync();
  }

  private tick(): void {
    if (this.closing) return;
    if (this.isSubscriber) {
      this.requestSync();
      this.pingSubscriber();
    }
    if (this.isPublisher) {
      void this.flushOutbox();
      if (this.now() - this.lastCheckAt >= this.rebuildCheckIntervalMs) void this.checkState();
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

  // ----------------------------------------------------------------- subscriber

  private onMessage(channel: string, message: string): void {
    if (channel !== this.channel || this.closing) return;
    const parsed = parseBusMessage(message);
    if (parsed !== null && !this.fastIds.has(parsed.id)) {
      this.fastIds.add(parsed.id);
      if (this.fastIds.size > MAX_FAST_IDS) {
        const oldest = this.fastIds.values().next();
        if (!oldest.done) this.fastIds.delete(oldest.value);
      }
      this.fanout.deliver(parsed.event);
    }
    // Every message (including rebuild hints) is also a cue to read the stream: it may show a gap.
    this.requestSync();
  }

  private requestSync(): void {
    if (this.closing || !this.isSubscriber) return;
    if (this.syncRunning) {
      this.syncAgain = true;
      return;
    }
    this.syncRunning = true;
    void (async () => {
      try {
        do {
          this.syncAgain = false;
          try {
            await this.syncOnce();
          } catch (err: unknown) {
            this.throttledLog('sync', 'warn', { err: errorMessage(err) }, 'revocation bus catch-up read failed; will retry');
            if (this.cmd) this.dropIfTimedOut(this.cmd, err);
          }
        } while (this.syncAgain && !this.closing);
      } finally {
        this.syncRunning = false;
      }
    })();
  }

  private async syncOnce(): Promise<void> {
    const cmd = this.cmd;
    if (!cmd || cmd.status !== 'ready' || this.closing) return;
    // Taken before reading, so lastSyncAt never claims more than we know.
    const syncStartedAt = this.now();
    const results = await cmd.multi().get(this.epochKey).xrevrange(this.streamKey, '+', '-', 'COUNT', 1).exec();
    const [epochReply, lastReply] = results ?? [];
    if (!epochReply || !lastReply) throw new Error('transaction aborted');
    if (epochReply[0]) throw epochReply[0];
    if (lastReply[0]) throw lastReply[0];
    const epoch = typeof epochReply[1] === 'string' ? epochReply[1] : null;
    const lastId = firstEntryId(lastReply[1]);

    let replayAll = false;
    if (this.knownEpoch === undefined) {
      this.knownEpoch = epoch;
    } else if (epoch !== this.knownEpoch) {
      if (epoch === null) {
        this.logger.warn({ epochKey: this.epochKey }, 'revocation state vanished from Redis; waiting for a rebuild from the source');
      } else {
        this.logger.info({ epoch }, 'revocation stream was rebuilt; replaying it from the start');
        replayAll = true;
      }
      this.knownEpoch = epoch;
    }
    if (this.cursor !== null && lastId !== null && compareStreamIds(lastId, this.cursor) < 0) {
      // The stream is behind what we already read: Redis restored older data or failed over.
      this.logger.warn({ cursor: this.cursor, lastId }, 'revocation stream went backwards; replaying it from the start');
      replayAll = true;
    }
    if (replayAll) this.cursor = null;
    if (epoch !== null) this.sawEpoch = true;

    for (;;) {
      const start = this.cursor === null ? '-' : `(${this.cursor}`;
      const entries = await cmd.xrange(this.streamKey, start, '+', 'COUNT', REPLAY_BATCH);
      if (this.closing) return;
      for (const [id, fields] of entries) {
        this.cursor = id;
        if (this.fastIds.delete(id)) continue;
        const event = decodeEntry(fields);
        if (event === null) {
          this.throttledLog('bad-entry', 'warn', { id }, 'skipping malformed revocation stream entry');
          continue;
        }
        this.fanout.deliver(event);
      }
      if (entries.length < REPLAY_BATCH) break;
    }
    this.forgetFastIdsUpTo(this.cursor);

    this.initialSync.resolve();
    if (this.sawEpoch || !this.requireEpoch) {
      // A complete read that started at syncStartedAt saw everything published before then;
      // pub/sub only makes delivery faster, so freshness does not depend on it.
      this.lastSyncAt = syncStartedAt;
    } else {
      // A bus that is also the publisher with a source initialises the epoch itself right after.
      this.throttledLog(
        'no-epoch',
        this.role === 'both' && this.options.source ? 'debug' : 'warn',
        { epochKey: this.epochKey },
        'revocation stream has no epoch yet (no publisher with a source has initialised it); staying stale',
      );
    }
    this.reportStaleness();
  }

  private forgetFastIdsUpTo(cursor: string | null): void {
    if (cursor === null) return;
    for (const id of this.fastIds) if (compareStreamIds(id, cursor) <= 0) this.fastIds.delete(id);
  }

  // ------------------------------------------------------------------ publisher

  private async flushOutbox(): Promise<void> {
    if (this.flushing || this.closed) return;
    this.flushing = true;
    try {
      while (this.outbox.length > 0 && !this.closed) {
        const cmd = this.cmd;
        if (!cmd || cmd.status !== 'ready') return;
        const item = this.outbox[0]!;
        const reply = await cmd.eval(PUBLISH_SCRIPT, 1, this.streamKey, item.json, this.streamMaxLen, this.channel);
        if (!isStreamId(reply)) throw new Error(`unexpected XADD reply ${String(reply)}`);
        this.outbox.shift();
        this.noteWritten(reply);
        if (this.role === 'publisher') this.lastSyncAt = this.now();
        if (item.waiter) {
          clearTimeout(item.waiter.timer);
          item.waiter.resolve();
        } else {
          this.logger.info({ seq: item.event.seq, id: reply }, 'queued revocation published');
        }
      }
    } catch (err: unknown) {
      this.throttledLog(
        'publish',
        'warn',
        { err: errorMessage(err), pending: this.outbox.length },
        'publishing revocation to Redis failed; retrying',
      );
      if (this.cmd) this.dropIfTimedOut(this.cmd, err);
    } finally {
      this.flushing = false;
    }
  }

  private noteWritten(id: string): void {
    if (this.lastWrittenId === null || compareStreamIds(id, this.lastWrittenId) > 0) this.lastWrittenId = id;
  }

  /** Publisher: is the revocation state still in Redis? Rebuild it from the source if not. */
  private async checkState(): Promise<void> {
    const cmd = this.cmd;
    if (this.checking || !cmd || cmd.status !== 'ready' || this.closing) return;
    this.checking = true;
    this.lastCheckAt = this.now();
    try {
      const state = await this.readState(cmd);
      if (this.role === 'publisher') this.lastSyncAt = this.lastCheckAt;
      let rebuilt = false;
      if (state.lost) {
        if (this.options.source) {
          rebuilt = await this.rebuild(cmd, this.options.source);
        } else {
          this.throttledLog('no-source', 'debug', {}, 'revocation epoch missing; a publisher with a source will rebuild');
        }
      }
      if (rebuilt) this.reconciled = true;
      if (!state.lost && !this.reconciled && this.options.source && this.reconcileOnStart) {
        try {
          await this.reconcile(cmd, this.options.source);
        } catch (err: unknown) {
          // Retried on the next check; must not hold up start().
          this.throttledLog('reconcile', 'warn', { err: errorMessage(err) }, 'revocation reconcile failed; will retry');
        }
      }
      // Only over a stream known whole: while it is lost, the rebuild restores it in order.
      if (!state.lost && this.reconciled && this.relayIntervalMs > 0 && this.now() - this.lastRelayAt >= this.relayIntervalMs) {
        await this.relayRecent(cmd);
      }
      if (!state.lost || rebuilt || !this.options.source) this.initialCheck.resolve();
    } catch (err: unknown) {
      this.throttledLog('check', 'warn', { err: errorMessage(err) }, 'revocation state check failed; will retry');
      this.dropIfTimedOut(cmd, err);
    } finally {
      this.checking = false;
    }
  }

  private async readState(cmd: Redis): Promise<{ lost: boolean }> {
    const results = await cmd.multi().exists(this.epochKey).xrevrange(this.streamKey, '+', '-', 'COUNT', 1).exec();
    const [existsReply, lastReply] = results ?? [];
    if (!existsReply || !lastReply) throw new Error('transaction aborted');
    if (existsReply[0]) throw existsReply[0];
    if (lastReply[0]) throw lastReply[0];
    const lastId = firstEntryId(lastReply[1]);
    // Our own last write missing means Redis went back in time (old snapshot, failover) even if the epoch survived.
    const regressed = this.lastWrittenId !== null && (lastId === null || compareStreamIds(lastId, this.lastWrittenId) < 0);
    if (regressed) {
      this.logger.warn({ lastWrittenId: this.lastWrittenId, lastId }, 'revocation stream lost entries this publisher wrote');
    }
    return { lost: existsReply[1] !== 1 || regressed };
  }

  private async rebuild(cmd: Redis, source: RevocationSource): Promise<boolean> {
    const token = randomBytes(12).toString('hex');
    const locked = await cmd.set(this.lockKey, token, 'PX', this.rebuildLockMs, 'NX');
    if (locked !== 'OK') return false; // another publisher is rebuilding; check again later
    try {
      // Someone may have finished a rebuild between our check and the lock.
      if (!(await this.readState(cmd)).lost) return true;
      const now = this.now();
      const events = (await source.listActive(now)).filter((e) => {
        const problem = revocationEventProblem(e);
        // One bad row must not block restoring all the others.
        if (problem !== null) this.logger.error({ problem, seq: e.seq }, 'skipping invalid revocation from the source');
        return problem === null && e.until > now;
      });
      // Nothing to restore (a new deployment's first start): worth a note, not a warning.
      const level = events.length > 0 ? 'warn' : 'info';
      this.logger[level]({ count: events.length }, 'revocation state missing in Redis; rebuilding it from the source');
      for (let i = 0; i < events.length; i += REBUILD_BATCH) {
        const pipeline = cmd.pipeline();
        for (const event of events.slice(i, i + REBUILD_BATCH)) {
          const json = JSON.stringify(toRevocationEvent(event));
          pipeline.xadd(this.streamKey, 'MAXLEN', '~', this.streamMaxLen, '*', 'e', json);
        }
        const results = (await pipeline.exec()) ?? [];
        for (const [err, id] of results) {
          if (err) throw err;
          if (isStreamId(id)) this.noteWritten(id);
        }
      }
      // The new epoch goes last: subscribers that see it replay a stream that is complete.
      const epoch = `${now}-${randomBytes(6).toString('hex')}`;
      const done = await cmd.multi().set(this.epochKey, epoch).publish(this.channel, JSON.stringify({ epoch })).exec();
      for (const [err] of done ?? []) if (err) throw err;
      this.logger[level]({ count: events.length, epoch }, 'revocation state rebuilt in Redis');
      return true;
    } finally {
      await cmd.eval(RELEASE_LOCK_SCRIPT, 1, this.lockKey, token).catch(() => undefined);
    }
  }

  /** Re-publishes active revocations the stream lacks (committed in PostgreSQL, never published). */
  private async reconcile(cmd: Redis, source: RevocationSource): Promise<void> {
    const present = await this.streamSeqs(cmd, '-');
    const now = this.now();
    this.republishMissing(await source.listActive(now), present, now, 'active revocations missing from the stream; re-publishing them');
    this.reconciled = true;
  }

  /**
   * The relay: revocations committed in the last RELAY_WINDOW_MS that are not on the stream (nor queued
   * here) are published now. One indexed query and one short stream read per interval.
   */
  private async relayRecent(cmd: Redis): Promise<void> {
    const listRecent = this.options.source?.listRecent?.bind(this.options.source);
    if (listRecent === undefined) return;
    this.lastRelayAt = this.now();
    try {
      const now = this.now();
      const recent = await listRecent(now - RELAY_WINDOW_MS);
      if (recent.length === 0) return;
      const present = await this.streamSeqs(cmd, `${Math.max(0, now - RELAY_WINDOW_MS - RELAY_CLOCK_SLACK_MS)}-0`);
      this.republishMissing(recent, present, now, 'revocations committed but never published; relaying them');
    } catch (err: unknown) {
      this.throttledLog('relay', 'warn', { err: errorMessage(err) }, 'revocation relay failed; will retry');
    }
  }

  /** The seqs on the stream from stream id `start` on. */
  private async streamSeqs(cmd: Redis, start: string): Promise<Set<number>> {
    const present = new Set<number>();
    for (;;) {
      const entries = await cmd.xrange(this.streamKey, start, '+', 'COUNT', REPLAY_BATCH);
      for (const [id, fields] of entries) {
        start = `(${id}`;
        const event = decodeEntry(fields);
        if (event !== null) present.add(event.seq);
      }
      if (entries.length < REPLAY_BATCH) return present;
    }
  }

  /** Queues (and flushes) the valid, still-enforced events of `events` that are neither `present` nor queued. */
  private republishMissing(events: readonly RevocationEvent[], present: ReadonlySet<number>, now: number, message: string): void {
    const pending = new Set(this.outbox.map((item) => item.event.seq));
    const missing = events.filter((e) => revocationEventProblem(e) === null && e.until > now && !present.has(e.seq) && !pending.has(e.seq));
    if (missing.length === 0) return;
    this.logger.warn({ seqs: missing.map((e) => e.seq) }, message);
    for (const event of missing) {
      const copy = toRevocationEvent(event);
      this.outbox.push({ event: copy, json: JSON.stringify(copy) });
    }
    void this.flushOutbox();
  }

  // -------------------------------------------------------------------- helpers

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

function parseBusMessage(message: string): { id: string; event: RevocationEvent } | null {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  // Messages without an event (rebuild hints) only trigger a catch-up read.
  if (!isStreamId(record['id']) || record['e'] === undefined) return null;
  if (revocationEventProblem(record['e']) !== null) return null;
  return { id: record['id'], event: toRevocationEvent(record['e']) };
}

function decodeEntry(fields: string[]): RevocationEvent | null {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'e') return parseRevocationEvent(fields[i + 1]!);
  }
  return null;
}

function firstEntryId(reply: unknown): string | null {
  if (!Array.isArray(reply) || reply.length === 0) return null;
  const entry: unknown = reply[0];
  if (!Array.isArray(entry)) return null;
  const id: unknown = entry[0];
  return isStreamId(id) ? id : null;
}

function deferred(): Deferred {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve: () => resolve() };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Ends the connection for good and waits (briefly) until its socket is gone, so jest can exit. */
async function disconnect(conn: Redis): Promise<void> {
  const live = conn.status === 'ready' || conn.status === 'connect' || conn.status === 'connecting';
  const ended = live
    ? new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, DISCONNECT_TIMEOUT_MS * 10);
        conn.once('end', () => {
          clearTimeout(timer);
          resolve();
        });
      })
    : // ioredis arms a disconnectTimeout timer even for an already-dead socket
      // (status "reconnecting"); outlast it so no timer survives close().
      sleep(DISCONNECT_TIMEOUT_MS + 20);
  conn.disconnect();
  await ended;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
