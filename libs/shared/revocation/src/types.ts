/** One committed revocation, as published on the bus. */
export interface RevocationEvent {
  /** Monotonically increasing, assigned by PostgreSQL (`revocations.seq`). */
  seq: number;
  /** Token jti (`tok_…`) or API key ids. */
  credentialIds: string[];
  /** ms epoch after which all listed credentials have expired anyway → the deny entry may be dropped. */
  until: number;
  /** e.g. 'token_revoked', 'user_revoked', 'refresh_reuse'. */
  reason: string;
  /** ms epoch of the revocation. */
  at: number;
}

/** Where the deny state can be rebuilt from if Redis lost it (implemented over PostgreSQL elsewhere). */
export interface RevocationSource {
  /** Every revocation whose `until` is after `nowMs`. */
  listActive(nowMs: number): Promise<RevocationEvent[]>;
  /**
   * The outbox: committed revocations not yet marked published, oldest seq first, at most `limit`.
   * Without it there is no relay.
   */
  listUnpublished?(limit: number): Promise<RevocationEvent[]>;
  /** Marks entries as on the bus, so no relay offers them again. */
  markPublished?(seqs: readonly number[]): Promise<void>;
}

export interface RevocationBusHealth {
  /** All connections this bus needs are up (and, for subscribers, subscribed). */
  connected: boolean;
  /** Last time this bus knew it was up to date (subscriber: last complete catch-up; publisher: last good round trip). */
  lastSyncAt: number | null;
  /** Not known to be up to date for longer than `maxStalenessMs` (or never): edges must refuse what they cannot vouch for. */
  stale: boolean;
}

export type RevocationHandler = (event: RevocationEvent) => void;

export interface RevocationBus {
  start(): Promise<void>;
  close(): Promise<void>;
  /**
   * Call after the revocation is committed in PostgreSQL (RevocationPublisher
   * does). Settles within the bus's publish timeout, the one bound on how long
   * a revoke waits for the edges to be told; a rejection means "not confirmed
   * yet", not "lost".
   */
  publish(event: RevocationEvent): Promise<void>;
  /**
   * Live and replayed events, at-least-once: handlers must be idempotent.
   * Active events the bus already holds are replayed to the new handler
   * synchronously, before `subscribe` returns. Returns an unsubscribe function.
   */
  subscribe(handler: RevocationHandler): () => void;
  health(): RevocationBusHealth;
}

/**
 * Structured logger, pino-compatible (`logger.warn({ err }, 'message')`), so a
 * pino instance can be passed as is.
 */
export interface RevocationLogger {
  debug?(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

/** Fallback when no logger is given: problems still reach stderr, routine info does not. */
export const consoleRevocationLogger: RevocationLogger = {
  info: () => undefined,
  warn: (fields, msg) => console.warn(`[signet:revocation] ${msg}`, fields),
  error: (fields, msg) => console.error(`[signet:revocation] ${msg}`, fields),
};

/** Returns why `value` is not a valid RevocationEvent, or null if it is. */
export function revocationEventProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'not an object';
  const v = value as Record<string, unknown>;
  if (typeof v['seq'] !== 'number' || !Number.isSafeInteger(v['seq']) || v['seq'] < 0) return 'seq must be a non-negative integer';
  const ids = v['credentialIds'];
  if (!Array.isArray(ids) || ids.length === 0) return 'credentialIds must be a non-empty array';
  if (!ids.every((id): id is string => typeof id === 'string' && id.length > 0)) return 'credentialIds must be non-empty strings';
  if (typeof v['until'] !== 'number' || !Number.isFinite(v['until'])) return 'until must be a finite number (ms epoch)';
  if (typeof v['reason'] !== 'string') return 'reason must be a string';
  if (typeof v['at'] !== 'number' || !Number.isFinite(v['at'])) return 'at must be a finite number (ms epoch)';
  return null;
}

/** A validated copy with only the known fields (callers' objects are never shared or mutated). */
export function toRevocationEvent(value: unknown): RevocationEvent {
  const problem = revocationEventProblem(value);
  if (problem !== null) throw new TypeError(`invalid revocation event: ${problem}`);
  const v = value as RevocationEvent;
  return { seq: v.seq, credentialIds: [...v.credentialIds], until: v.until, reason: v.reason, at: v.at };
}

/** Parses JSON into a RevocationEvent, or returns null if it is not one. */
export function parseRevocationEvent(json: string): RevocationEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  return revocationEventProblem(value) === null ? toRevocationEvent(value) : null;
}
