import type Redis from 'ioredis';

import type { RevocationFanout } from '../fanout';
import type { RevocationLogger, RevocationSource } from '../types';

export type RevocationBusRole = 'publisher' | 'subscriber' | 'both';

/** The Redis keys of one deployment's revocation state (`<prefix>revocations…`). */
export interface BusKeys {
  /** The stream, the durable log; the pub/sub channel has the same name. */
  stream: string;
  channel: string;
  /** Changes whenever a publisher rebuilt the stream from its source. */
  epoch: string;
  /** Held by the publisher rebuilding the stream. */
  lock: string;
  /** The seqs on the stream (a sorted set scored by `until`): each revocation goes there once. */
  published: string;
}

export function busKeys(prefix: string): BusKeys {
  const stream = `${prefix}revocations`;
  return { stream, channel: stream, epoch: `${stream}:epoch`, lock: `${stream}:rebuild-lock`, published: `${stream}:published` };
}

export type ThrottledLog = (key: string, level: 'debug' | 'warn' | 'error', fields: Record<string, unknown>, msg: string) => void;

/**
 * What the publisher side (outbox, state check) and the subscriber side
 * (stream reader) share with the bus that owns the connections.
 */
export interface BusContext {
  readonly keys: BusKeys;
  readonly role: RevocationBusRole;
  readonly logger: RevocationLogger;
  readonly now: () => number;
  readonly fanout: RevocationFanout;
  readonly source: RevocationSource | undefined;
  /** The command connection if it is ready, else null. */
  readyCmd(): Redis | null;
  /** close() has begun: no new work. */
  isClosing(): boolean;
  /** close() has finished flushing: the outbox stops. */
  isClosed(): boolean;
  throttledLog: ThrottledLog;
  /** A command that timed out means a dead link: reconnect it. */
  dropIfTimedOut(conn: Redis, err: unknown): void;
  /** The bus knew it was up to date at `at` (`health().lastSyncAt`). */
  markSynced(at: number): void;
  reportStaleness(): void;
}
