import { RC } from './codes';
import type { EdgeLimits } from './limits';
import type { ClientLink } from './session';
import type { EdgeLogger } from './types';

/**
 * What the edge does about the bytes it owes its clients: writes are batched per connection and
 * handed to the sockets once per event-loop turn, and connections that stop draining are watched
 * and disconnected as slow consumers.
 */
export class WritePressure {
  private readonly dirty: ClientLink[] = [];
  private flushScheduled = false;
  /** Connections seen above maxWriteBufferBytes → since when: the sweep's slow-consumer watch list. */
  private readonly backlogged = new Map<ClientLink, number>();
  private slowConsumerPending = false;

  constructor(
    private readonly limits: EdgeLimits,
    private readonly logger: EdgeLogger,
    /** The broker's coarse clock. */
    private readonly clock: () => number,
    /** Counts one slow consumer disconnected (the broker's stats). */
    private readonly countSlowConsumer: () => void,
  ) {}

  /**
   * Writes are collected per connection and handed to the socket once per
   * event-loop turn (setImmediate runs after all pending I/O callbacks), so a
   * burst of packets to one client becomes one writev / one WebSocket frame.
   */
  markDirty(conn: ClientLink): void {
    this.dirty.push(conn);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushAll);
    }
  }

  private readonly flushAll = (): void => {
    this.flushScheduled = false;
    const dirty = this.dirty;
    // Connections may be re-marked while flushing (a write error closing one): loop by index.
    for (let i = 0; i < dirty.length; i++) {
      try {
        dirty[i].flush();
      } catch (err) {
        this.logger.error({ err }, 'mqtt edge flush failed');
      }
    }
    dirty.length = 0;
  };

  /**
   * `conn` has more than maxWriteBufferBytes waiting (seen when a QoS 0 message to it is dropped, or by
   * its transport after a write): the sweep watches it until it drains or is disconnected. `overCap`: it
   * is beyond slowConsumerMaxBytes, and is disconnected once the current flush is over.
   */
  markBacklogged(conn: ClientLink, overCap = false): void {
    if (overCap) {
      // Not from inside the flush that found it: the DISCONNECT must be written before the socket ends.
      this.backlogged.set(conn, -Infinity);
      if (!this.slowConsumerPending) {
        this.slowConsumerPending = true;
        setImmediate(this.checkOverCap);
      }
    } else if (!this.backlogged.has(conn)) {
      this.backlogged.set(conn, this.clock());
    }
  }

  /** The sweep's look at the watch list (nothing to do while it is empty). */
  sweep(now: number): void {
    if (this.backlogged.size > 0) this.checkBacklogged(now);
  }

  private readonly checkOverCap = (): void => {
    this.slowConsumerPending = false;
    this.checkBacklogged(this.clock());
  };

  /**
   * Slow consumers: a connection above maxWriteBufferBytes for slowConsumerGraceMs, or above
   * slowConsumerMaxBytes, is disconnected (5.0: DISCONNECT 0x97 quota exceeded), so that it cannot hold
   * unbounded memory; one that drained leaves the list. Only listed connections are looked at.
   */
  private checkBacklogged(now: number): void {
    const { maxWriteBufferBytes, slowConsumerGraceMs } = this.limits;
    for (const [conn, since] of this.backlogged) {
      // Not connected: closed, or closing (its transport must not be asked any more).
      const buffered = conn.isConnected() ? conn.bufferedBytes() : 0;
      if (buffered <= maxWriteBufferBytes) {
        this.backlogged.delete(conn);
      } else if (now - since >= slowConsumerGraceMs) {
        this.backlogged.delete(conn);
        this.countSlowConsumer();
        const overCap = since === -Infinity;
        this.logger.info({ clientId: conn.clientId, buffered, overCap }, 'mqtt slow consumer disconnected');
        conn.kick(RC.QUOTA_EXCEEDED, 'slow_consumer', true);
      }
    }
  }
}
