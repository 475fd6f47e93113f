import { RevocationFanout } from './fanout';
import {
  consoleRevocationLogger,
  revocationEventProblem,
  toRevocationEvent,
  type RevocationBus,
  type RevocationBusHealth,
  type RevocationEvent,
  type RevocationHandler,
  type RevocationLogger,
} from './types';

/** The second path: the revocation log as the token service serves it (gRPC `ListRevocations`). */
export interface RevocationFeed {
  /**
   * Revocations in force with a seq after `afterSeq`, and the recent ones whatever their seq (a late
   * commit of an earlier seq), oldest first, at most `limit`.
   */
  list(afterSeq: number, limit: number): Promise<RevocationEvent[]>;
}

export interface FallbackRevocationBusOptions {
  /** The bus edges normally hear from (Redis). None: the feed is the only path (an edge without Redis). */
  primary?: RevocationBus;
  feed: RevocationFeed;
  /** The primary not in sync for this long → the feed is polled (default 3000). */
  fallbackAfterMs?: number;
  /** How often the feed is polled while it is used (default 1000). */
  pollIntervalMs?: number;
  /** Revocations per feed call (default 1000). */
  pageSize?: number;
  /** Not known up to date through either path for longer than this → stale (default 30 000). */
  maxStalenessMs?: number;
  logger?: RevocationLogger;
  now?: () => number;
}

const LOG_THROTTLE_MS = 30_000;

/**
 * An edge's subscriber bus with a second path (ARCHITECTURE §6): events come
 * from the primary bus while it is in sync, and from polling the feed while
 * it is not — a Redis outage, or no Redis at all — so a revocation reaches
 * the edge within seconds either way. Both paths feed one fanout, whose
 * dedupe by seq keeps an event that arrives both ways from being handled
 * twice; the bus is fresh while either path is.
 */
export class FallbackRevocationBus implements RevocationBus {
  private readonly primary: RevocationBus | undefined;
  private readonly feed: RevocationFeed;
  private readonly fanout: RevocationFanout;
  private readonly logger: RevocationLogger;
  private readonly now: () => number;
  private readonly fallbackAfterMs: number;
  private readonly pollIntervalMs: number;
  private readonly pageSize: number;
  private readonly maxStalenessMs: number;
  /** Highest seq the feed has returned: the next poll asks for what comes after it. */
  private cursor = 0;
  /** When the last complete poll began (everything committed before then, give or take a late commit, was seen). */
  private feedSyncAt: number | null = null;
  private feedOk = false;
  private usingFeed = false;
  private polling: Promise<void> | null = null;
  private startedAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribePrimary: (() => void) | null = null;
  private closed = false;
  private lastFailureLogAt = 0;

  constructor(options: FallbackRevocationBusOptions) {
    this.primary = options.primary;
    this.feed = options.feed;
    this.logger = options.logger ?? consoleRevocationLogger;
    this.now = options.now ?? Date.now;
    this.fanout = new RevocationFanout(this.logger, this.now);
    this.fallbackAfterMs = options.fallbackAfterMs ?? 3000;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.pageSize = options.pageSize ?? 1000;
    this.maxStalenessMs = options.maxStalenessMs ?? 30_000;
  }

  async start(): Promise<void> {
    if (this.closed) throw new Error('FallbackRevocationBus: closed');
    if (this.timer) return;
    this.startedAt = this.now();
    this.unsubscribePrimary = this.primary?.subscribe((event) => this.fanout.deliver(event)) ?? null;
    // Before the primary's start, which waits for Redis (up to its start timeout) when Redis is down.
    this.timer = setInterval(() => void this.tick(), this.pollIntervalMs);
    this.timer.unref();
    if (this.primary) await this.primary.start();
    else await this.tick();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unsubscribePrimary?.();
    await this.polling;
    this.fanout.close();
    await this.primary?.close();
  }

  async publish(): Promise<void> {
    throw new Error('FallbackRevocationBus: an edge does not publish revocations');
  }

  subscribe(handler: RevocationHandler): () => void {
    return this.fanout.subscribe(handler);
  }

  health(): RevocationBusHealth {
    const primary = this.primary?.health();
    const syncs = [primary?.lastSyncAt ?? null, this.feedSyncAt].filter((t): t is number => t !== null);
    const lastSyncAt = syncs.length > 0 ? Math.max(...syncs) : null;
    const stale = this.closed || lastSyncAt === null || this.now() - lastSyncAt > this.maxStalenessMs;
    return { connected: !this.closed && (primary?.connected === true || this.feedOk), lastSyncAt, stale };
  }

  /** Polls the feed when the primary has not been in sync for fallbackAfterMs (always, without a primary). */
  private tick(): Promise<void> {
    if (this.closed || this.polling) return this.polling ?? Promise.resolve();
    const needed = this.feedNeeded();
    if (needed !== this.usingFeed) {
      this.usingFeed = needed;
      if (this.primary) {
        this.logger[needed ? 'warn' : 'info'](
          { fallbackAfterMs: this.fallbackAfterMs },
          needed ? 'revocation bus not in sync; polling the token service for revocations' : 'revocation bus in sync again; no longer polling the token service',
        );
      }
    }
    if (!needed) return Promise.resolve();
    this.polling = this.poll().finally(() => {
      this.polling = null;
    });
    return this.polling;
  }

  private feedNeeded(): boolean {
    if (!this.primary) return true;
    const since = this.primary.health().lastSyncAt ?? this.startedAt;
    return this.now() - since > this.fallbackAfterMs;
  }

  private async poll(): Promise<void> {
    const startedAt = this.now();
    try {
      for (;;) {
        const page = await this.feed.list(this.cursor, this.pageSize);
        if (this.closed) return;
        let highest = this.cursor;
        for (const event of page) {
          if (revocationEventProblem(event) !== null) continue;
          this.fanout.deliver(toRevocationEvent(event));
          highest = Math.max(highest, event.seq);
        }
        const advanced = highest > this.cursor;
        this.cursor = highest;
        // A full page that moved the cursor may have more behind it; one that did not is all look-back.
        if (page.length < this.pageSize || !advanced) break;
      }
      this.feedSyncAt = startedAt;
      this.feedOk = true;
    } catch (err: unknown) {
      this.feedOk = false;
      if (this.now() - this.lastFailureLogAt >= LOG_THROTTLE_MS) {
        this.lastFailureLogAt = this.now();
        this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not poll the token service for revocations; will retry');
      }
    }
  }
}
