import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';

import { compareStreamIds, isStreamId } from '../stream-id';
import { revocationEventProblem, toRevocationEvent, type RevocationEvent, type RevocationSource } from '../types';
import { deferred, errorMessage } from './connection';
import type { BusContext } from './context';
import { decodeEntry, firstEntryId } from './entries';
import type { RevocationOutbox } from './outbox';
import { RELEASE_LOCK_SCRIPT } from './scripts';

const REPLAY_BATCH = 1000;
const REBUILD_BATCH = 500;
/** The most outbox entries one relay round takes. */
const RELAY_BATCH = 1000;

export interface StateCheckOptions {
  rebuildLockMs: number;
  streamMaxLen: number;
  reconcileOnStart: boolean;
  relayIntervalMs: number;
}

/**
 * The publisher's periodic look at Redis: is the revocation state still
 * there (rebuild it from the source if not), is every active revocation on
 * the stream (reconcile, once per start), and is anything of the source's
 * outbox still unpublished (the relay).
 */
export class RevocationStateCheck {
  /** Resolves after the first check that found the state whole (or rebuilt it). */
  readonly initial = deferred();
  lastCheckAt = 0;
  private checking = false;
  private reconciled = false;
  private lastRelayAt = 0;

  constructor(
    private readonly ctx: BusContext,
    private readonly outbox: RevocationOutbox,
    private readonly options: StateCheckOptions,
  ) {}

  async check(): Promise<void> {
    const cmd = this.ctx.readyCmd();
    if (this.checking || !cmd || this.ctx.isClosing()) return;
    const source = this.ctx.source;
    this.checking = true;
    this.lastCheckAt = this.ctx.now();
    try {
      const state = await this.readState(cmd);
      if (this.ctx.role === 'publisher') this.ctx.markSynced(this.lastCheckAt);
      let rebuilt = false;
      if (state.lost) {
        if (source) {
          rebuilt = await this.rebuild(cmd, source);
        } else {
          this.ctx.throttledLog('no-source', 'debug', {}, 'revocation epoch missing; a publisher with a source will rebuild');
        }
      }
      if (rebuilt) this.reconciled = true;
      if (!state.lost && !this.reconciled && source && this.options.reconcileOnStart) {
        try {
          await this.reconcile(cmd, source);
        } catch (err: unknown) {
          // Retried on the next check; must not hold up start().
          this.ctx.throttledLog('reconcile', 'warn', { err: errorMessage(err) }, 'revocation reconcile failed; will retry');
        }
      }
      // Only over a stream known whole: while it is lost, the rebuild restores it in order.
      const { relayIntervalMs } = this.options;
      if (!state.lost && this.reconciled && relayIntervalMs > 0 && this.ctx.now() - this.lastRelayAt >= relayIntervalMs) {
        await this.relay();
      }
      if (!state.lost || rebuilt || !source) this.initial.resolve();
    } catch (err: unknown) {
      this.ctx.throttledLog('check', 'warn', { err: errorMessage(err) }, 'revocation state check failed; will retry');
      this.ctx.dropIfTimedOut(cmd, err);
    } finally {
      this.checking = false;
    }
  }

  private async readState(cmd: Redis): Promise<{ lost: boolean }> {
    const { keys } = this.ctx;
    const results = await cmd.multi().exists(keys.epoch).xrevrange(keys.stream, '+', '-', 'COUNT', 1).exec();
    const [existsReply, lastReply] = results ?? [];
    if (!existsReply || !lastReply) throw new Error('transaction aborted');
    if (existsReply[0]) throw existsReply[0];
    if (lastReply[0]) throw lastReply[0];
    const lastId = firstEntryId(lastReply[1]);
    const lastWrittenId = this.outbox.lastWrittenId;
    // Our own last write missing means Redis went back in time (old snapshot, failover) even if the epoch survived.
    const regressed = lastWrittenId !== null && (lastId === null || compareStreamIds(lastId, lastWrittenId) < 0);
    if (regressed) {
      this.ctx.logger.warn({ lastWrittenId, lastId }, 'revocation stream lost entries this publisher wrote');
    }
    return { lost: existsReply[1] !== 1 || regressed };
  }

  private async rebuild(cmd: Redis, source: RevocationSource): Promise<boolean> {
    const { keys, logger } = this.ctx;
    const token = randomBytes(12).toString('hex');
    const locked = await cmd.set(keys.lock, token, 'PX', this.options.rebuildLockMs, 'NX');
    if (locked !== 'OK') return false; // another publisher is rebuilding; check again later
    try {
      // Someone may have finished a rebuild between our check and the lock.
      if (!(await this.readState(cmd)).lost) return true;
      const now = this.ctx.now();
      const events = (await source.listActive(now)).filter((e) => {
        const problem = revocationEventProblem(e);
        // One bad row must not block restoring all the others.
        if (problem !== null) logger.error({ problem, seq: e.seq }, 'skipping invalid revocation from the source');
        return problem === null && e.until > now;
      });
      // Nothing to restore (a new deployment's first start): worth a note, not a warning.
      const level = events.length > 0 ? 'warn' : 'info';
      logger[level]({ count: events.length }, 'revocation state missing in Redis; rebuilding it from the source');
      // The published set goes with the stream it describes: what is rebuilt is on the stream once.
      await cmd.del(keys.published);
      for (let i = 0; i < events.length; i += REBUILD_BATCH) {
        const pipeline = cmd.pipeline();
        for (const event of events.slice(i, i + REBUILD_BATCH)) {
          const json = JSON.stringify(toRevocationEvent(event));
          pipeline.xadd(keys.stream, 'MAXLEN', '~', this.options.streamMaxLen, '*', 'e', json);
          pipeline.zadd(keys.published, event.until, event.seq);
        }
        const results = (await pipeline.exec()) ?? [];
        for (const [err, id] of results) {
          if (err) throw err;
          if (isStreamId(id)) this.outbox.noteWritten(id);
        }
      }
      // The new epoch goes last: subscribers that see it replay a stream that is complete.
      const epoch = `${now}-${randomBytes(6).toString('hex')}`;
      const done = await cmd.multi().set(keys.epoch, epoch).publish(keys.channel, JSON.stringify({ epoch })).exec();
      for (const [err] of done ?? []) if (err) throw err;
      logger[level]({ count: events.length, epoch }, 'revocation state rebuilt in Redis');
      return true;
    } finally {
      await cmd.eval(RELEASE_LOCK_SCRIPT, 1, keys.lock, token).catch(() => undefined);
    }
  }

  /** Re-publishes active revocations the stream lacks (committed in PostgreSQL, never published). */
  private async reconcile(cmd: Redis, source: RevocationSource): Promise<void> {
    const present = await this.streamSeqs(cmd, '-');
    const now = this.ctx.now();
    const missing = this.unqueued(await source.listActive(now), now).filter((e) => !present.has(e.seq));
    this.enqueue(missing, 'active revocations missing from the stream; re-publishing them');
    this.reconciled = true;
  }

  /**
   * The relay: the source's outbox (revocations committed but not yet marked published — a process that
   * died or gave up before publishing, a statement that committed after its request had answered) goes
   * to the stream in seq order. Entries no longer in force are only marked. One indexed query per interval.
   */
  private async relay(): Promise<void> {
    const source = this.ctx.source;
    if (!source?.listUnpublished) return;
    this.lastRelayAt = this.ctx.now();
    try {
      const pending = await source.listUnpublished(RELAY_BATCH);
      if (pending.length === 0) return;
      const now = this.ctx.now();
      const live = this.unqueued(pending, now);
      const moot = pending.filter((e) => revocationEventProblem(e) !== null || e.until <= now).map((e) => e.seq);
      if (moot.length > 0) this.outbox.markPublished(moot);
      this.enqueue(live, 'revocations committed but not yet published; relaying them');
    } catch (err: unknown) {
      this.ctx.throttledLog('relay', 'warn', { err: errorMessage(err) }, 'revocation relay failed; will retry');
    }
  }

  /** The seqs on the stream from stream id `start` on. */
  private async streamSeqs(cmd: Redis, start: string): Promise<Set<number>> {
    const present = new Set<number>();
    for (;;) {
      const entries = await cmd.xrange(this.ctx.keys.stream, start, '+', 'COUNT', REPLAY_BATCH);
      for (const [id, fields] of entries) {
        start = `(${id}`;
        const event = decodeEntry(fields);
        if (event !== null) present.add(event.seq);
      }
      if (entries.length < REPLAY_BATCH) return present;
    }
  }

  /** The valid, still-enforced events of `events` that this publisher has not queued already. */
  private unqueued(events: readonly RevocationEvent[], now: number): RevocationEvent[] {
    const queued = this.outbox.seqs();
    return events.filter((e) => revocationEventProblem(e) === null && e.until > now && !queued.has(e.seq));
  }

  private enqueue(events: readonly RevocationEvent[], message: string): void {
    if (events.length === 0) return;
    this.ctx.logger.warn({ seqs: events.map((e) => e.seq) }, message);
    this.outbox.add(events);
  }
}
