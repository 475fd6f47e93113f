import { Env, readInt } from './env';

/**
 * A PostgreSQL that stops answering must not hold a request (or a CONNECT that
 * needs a key lookup) for ever: each wait has a bound, past which the caller
 * gets 503 `database_unavailable` / CONNACK 0x88 and nothing commits.
 */
export interface DeadlineConfig {
  /** Longest one SQL statement runs (PostgreSQL `statement_timeout`; the client gives up shortly after). */
  dbStatementTimeoutMs: number;
  /** Longest a caller waits for a pooled connection, connecting a new one included. */
  dbAcquireTimeoutMs: number;
  /** Longest the HTTP API works on one request before answering 503; a transaction still open then rolls back. */
  requestTimeoutMs: number;
}

export function loadDeadlineConfig(env: Env): DeadlineConfig {
  return {
    dbStatementTimeoutMs: readInt(env, 'SIGNET_DB_STATEMENT_TIMEOUT_MS', 5000, 100, 3_600_000),
    dbAcquireTimeoutMs: readInt(env, 'SIGNET_DB_ACQUIRE_TIMEOUT_MS', 3000, 100, 3_600_000),
    requestTimeoutMs: readInt(env, 'SIGNET_REQUEST_TIMEOUT_MS', 10000, 100, 3_600_000),
  };
}
