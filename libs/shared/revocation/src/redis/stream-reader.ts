import { compareStreamIds } from '../stream-id';
import { deferred, errorMessage } from './connection';
import type { BusContext } from './context';
import { decodeEntry, firstEntryId, parseBusMessage } from './entries';

const REPLAY_BATCH = 1000;
const MAX_FAST_IDS = 10_000;

/**
 * The subscriber side: pub/sub messages are delivered at once, and the stream
 * is the truth, read from the cursor on start, on every (re)connect, after
 * every live message and every poll, so nothing published while this bus was
 * cut off or not yet running is missed. A changed epoch (the stream was
 * rebuilt) or a stream behind the cursor replays it from the start.
 */
export class RevocationStreamReader {
  /** Resolves after the first complete read. */
  readonly initial = deferred();
  /** Last stream id read from the stream (exclusive start of the next read); null = from the beginning. */
  private cursor: string | null = null;
  /** Epoch seen on the last sync; undefined before the first one. */
  private knownEpoch: string | null | undefined = undefined;
  private sawEpoch = false;
  /** Stream ids already delivered from pub/sub, skipped when the stream read reaches them. */
  private readonly fastIds = new Set<string>();
  private syncRunning = false;
  private syncAgain = false;

  constructor(
    private readonly ctx: BusContext,
    /** Without a seen epoch the stream may be incomplete, so the bus stays stale (see RedisRevocationBusOptions.requireEpoch). */
    private readonly requireEpoch: boolean,
  ) {}

  onMessage(channel: string, message: string): void {
    if (channel !== this.ctx.keys.channel || this.ctx.isClosing()) return;
    const parsed = parseBusMessage(message);
    if (parsed !== null && !this.fastIds.has(parsed.id)) {
      this.fastIds.add(parsed.id);
      if (this.fastIds.size > MAX_FAST_IDS) {
        const oldest = this.fastIds.values().next();
        if (!oldest.done) this.fastIds.delete(oldest.value);
      }
      this.ctx.fanout.deliver(parsed.event);
    }
    // Every message (including rebuild hints) is also a cue to read the stream: it may show a gap.
    this.requestSync();
  }

  requestSync(): void {
    if (this.ctx.isClosing()) return;
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
            this.ctx.throttledLog('sync', 'warn', { err: errorMessage(err) }, 'revocation bus catch-up read failed; will retry');
            const cmd = this.ctx.readyCmd();
            if (cmd) this.ctx.dropIfTimedOut(cmd, err);
          }
        } while (this.syncAgain && !this.ctx.isClosing());
      } finally {
        this.syncRunning = false;
      }
    })();
  }

  private async syncOnce(): Promise<void> {
    const cmd = this.ctx.readyCmd();
    if (!cmd || this.ctx.isClosing()) return;
    const { keys, logger } = this.ctx;
    // Taken before reading, so lastSyncAt never claims more than we know.
    const syncStartedAt = this.ctx.now();
    const results = await cmd.multi().get(keys.epoch).xrevrange(keys.stream, '+', '-', 'COUNT', 1).exec();
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
        logger.warn({ epochKey: keys.epoch }, 'revocation state vanished from Redis; waiting for a rebuild from the source');
      } else {
        logger.info({ epoch }, 'revocation stream was rebuilt; replaying it from the start');
        replayAll = true;
      }
      this.knownEpoch = epoch;
    }
    if (this.cursor !== null && lastId !== null && compareStreamIds(lastId, this.cursor) < 0) {
      // The stream is behind what we already read: Redis restored older data or failed over.
      logger.warn({ cursor: this.cursor, lastId }, 'revocation stream went backwards; replaying it from the start');
      replayAll = true;
    }
    if (replayAll) this.cursor = null;
    if (epoch !== null) this.sawEpoch = true;

    for (;;) {
      const start = this.cursor === null ? '-' : `(${this.cursor}`;
      const entries = await cmd.xrange(keys.stream, start, '+', 'COUNT', REPLAY_BATCH);
      if (this.ctx.isClosing()) return;
      for (const [id, fields] of entries) {
        this.cursor = id;
        if (this.fastIds.delete(id)) continue;
        const event = decodeEntry(fields);
        if (event === null) {
          this.ctx.throttledLog('bad-entry', 'warn', { id }, 'skipping malformed revocation stream entry');
          continue;
        }
        this.ctx.fanout.deliver(event);
      }
      if (entries.length < REPLAY_BATCH) break;
    }
    this.forgetFastIdsUpTo(this.cursor);

    this.initial.resolve();
    if (this.sawEpoch || !this.requireEpoch) {
      // A complete read that started at syncStartedAt saw everything published before then;
      // pub/sub only makes delivery faster, so freshness does not depend on it.
      this.ctx.markSynced(syncStartedAt);
    } else {
      // A bus that is also the publisher with a source initialises the epoch itself right after.
      this.ctx.throttledLog(
        'no-epoch',
        this.ctx.role === 'both' && this.ctx.source ? 'debug' : 'warn',
        { epochKey: keys.epoch },
        'revocation stream has no epoch yet (no publisher with a source has initialised it); staying stale',
      );
    }
    this.ctx.reportStaleness();
  }

  private forgetFastIdsUpTo(cursor: string | null): void {
    if (cursor === null) return;
    for (const id of this.fastIds) if (compareStreamIds(id, cursor) <= 0) this.fastIds.delete(id);
  }
}
