import { compareStreamIds, isStreamId } from '../stream-id';
import { toRevocationEvent, type RevocationEvent } from '../types';
import type { BusContext } from './context';
import { errorMessage } from './connection';
import { PUBLISH_SCRIPT } from './scripts';

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

interface OutboxItem {
  event: RevocationEvent;
  json: string;
  waiter?: { resolve(): void; reject(err: Error): void; timer: NodeJS.Timeout };
}

/**
 * The publisher's queue to the stream, in order: what this process committed
 * (publish) and what the relay found in the source's outbox. Each item is
 * written once (PUBLISH_SCRIPT skips a seq already on the stream), retried
 * until then, and marked published in the source afterwards, so the relay
 * of any process stops offering it.
 */
export class RevocationOutbox {
  private readonly items: OutboxItem[] = [];
  private flushing = false;
  /** The newest stream id this publisher wrote: if it vanishes, Redis went back in time. */
  lastWrittenId: string | null = null;

  constructor(
    private readonly ctx: BusContext,
    private readonly publishTimeoutMs: number,
    private readonly streamMaxLen: number,
  ) {}

  get size(): number {
    return this.items.length;
  }

  seqs(): Set<number> {
    return new Set(this.items.map((item) => item.event.seq));
  }

  /** Queues `event` and settles once it is on the stream (rejects after the publish timeout; still queued). */
  push(event: RevocationEvent): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const item: OutboxItem = { event, json: JSON.stringify(event) };
      const timer = setTimeout(() => {
        item.waiter = undefined;
        reject(new RevocationPublishTimeoutError(event.seq, this.publishTimeoutMs));
      }, this.publishTimeoutMs);
      item.waiter = { resolve, reject, timer };
      this.items.push(item);
      void this.flush();
    });
  }

  /** Queues copies of `events` that nobody waits for (the relay, the reconcile). */
  add(events: readonly RevocationEvent[]): void {
    for (const event of events) {
      const copy = toRevocationEvent(event);
      this.items.push({ event: copy, json: JSON.stringify(copy) });
    }
    void this.flush();
  }

  async flush(): Promise<void> {
    if (this.flushing || this.ctx.isClosed()) return;
    this.flushing = true;
    const settled: number[] = [];
    try {
      while (this.items.length > 0 && !this.ctx.isClosed()) {
        const cmd = this.ctx.readyCmd();
        if (!cmd) return;
        const item = this.items[0]!;
        const { keys } = this.ctx;
        const reply = await cmd.eval(
          PUBLISH_SCRIPT,
          2,
          keys.stream,
          keys.published,
          item.json,
          this.streamMaxLen,
          keys.channel,
          item.event.seq,
          item.event.until,
          this.ctx.now(),
        );
        // nil: the seq is on the stream already (another process's relay or retry got there first).
        if (reply !== null && !isStreamId(reply)) throw new Error(`unexpected XADD reply ${String(reply)}`);
        this.items.shift();
        settled.push(item.event.seq);
        if (reply !== null) this.noteWritten(reply);
        if (this.ctx.role === 'publisher') this.ctx.markSynced(this.ctx.now());
        if (item.waiter) {
          clearTimeout(item.waiter.timer);
          item.waiter.resolve();
        } else {
          this.ctx.logger.info({ seq: item.event.seq, id: reply }, 'queued revocation published');
        }
      }
    } catch (err: unknown) {
      this.ctx.throttledLog('publish', 'warn', { err: errorMessage(err), pending: this.items.length }, 'publishing revocation to Redis failed; retrying');
      const cmd = this.ctx.readyCmd();
      if (cmd) this.ctx.dropIfTimedOut(cmd, err);
    } finally {
      this.flushing = false;
      if (settled.length > 0) this.markPublished(settled);
    }
  }

  noteWritten(id: string): void {
    if (this.lastWrittenId === null || compareStreamIds(id, this.lastWrittenId) > 0) this.lastWrittenId = id;
  }

  /** On close: whatever is still queued is left to the source's outbox; waiters are told. */
  abandon(): void {
    if (this.items.length > 0) {
      this.ctx.logger.error(
        { seqs: this.items.map((item) => item.event.seq) },
        'revocation bus closed with unpublished revocations; they are committed in PostgreSQL and will be relayed by a source-backed publisher',
      );
    }
    for (const item of this.items.splice(0)) {
      if (!item.waiter) continue;
      clearTimeout(item.waiter.timer);
      item.waiter.reject(new Error(`revocation bus closed before seq ${item.event.seq} was published`));
    }
  }

  /** Marks `seqs` published in the source; if that fails the relay finds them again and the script skips them. */
  markPublished(seqs: readonly number[]): void {
    const source = this.ctx.source;
    if (!source?.markPublished) return;
    source.markPublished(seqs).catch((err: unknown) => {
      this.ctx.throttledLog('mark-published', 'warn', { err: errorMessage(err), count: seqs.length }, 'could not mark revocations published; the relay will check them again');
    });
  }
}
