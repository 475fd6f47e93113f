import type { DataSource } from 'typeorm';

/** A stored Idempotency-Key: its request's fingerprint and, once answered, the response. */
export interface IdempotencyRecord {
  requestHash: string;
  /** Null while the first request is still being served. */
  status: number | null;
  /** The response body, sealed (it holds credentials shown once); null while in progress. */
  sealedBody: string | null;
}

export type Reservation = { reserved: true } | { reserved: false; existing: IdempotencyRecord };

/** The SQL of `idempotency_keys`. */
export interface IdempotencyRepository {
  /**
   * Claims (scope, key) for a new request, unless a live record holds it. An expired record, or one left
   * in progress for longer than `staleMs` (its process died before answering), is taken over.
   */
  reserve(scope: string, key: string, requestHash: string, ttlMs: number, staleMs: number): Promise<Reservation>;
  /** Stores the response of a reserved key. */
  complete(scope: string, key: string, status: number, sealedBody: string): Promise<void>;
  /** Gives a reserved key back (the request failed: a retry runs it again). */
  release(scope: string, key: string): Promise<void>;
  /** Deletes expired records; returns how many. */
  pruneExpired(): Promise<number>;
}

export class TypeOrmIdempotencyRepository implements IdempotencyRepository {
  constructor(private readonly dataSource: DataSource) {}

  async reserve(scope: string, key: string, requestHash: string, ttlMs: number, staleMs: number): Promise<Reservation> {
    // One statement: of two concurrent requests with the same key, PostgreSQL lets exactly one insert (or take over).
    const claimed = (await this.dataSource.query(
      `INSERT INTO idempotency_keys (scope, key, request_hash, expires_at)
       VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond')
       ON CONFLICT (scope, key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, status = NULL, body = NULL, created_at = now(), expires_at = EXCLUDED.expires_at
         WHERE idempotency_keys.expires_at <= now()
            OR (idempotency_keys.status IS NULL AND idempotency_keys.created_at < now() - $5 * interval '1 millisecond')
       RETURNING key`,
      [scope, key, requestHash, ttlMs, staleMs],
    )) as unknown[];
    if (claimed.length > 0) return { reserved: true };
    const rows = (await this.dataSource.query(`SELECT request_hash, status, body FROM idempotency_keys WHERE scope = $1 AND key = $2`, [
      scope,
      key,
    ])) as { request_hash: string; status: number | null; body: string | null }[];
    // Deleted between the two statements (released by a failed first request): claim it again.
    if (rows.length === 0) return this.reserve(scope, key, requestHash, ttlMs, staleMs);
    const row = rows[0];
    return { reserved: false, existing: { requestHash: row.request_hash, status: row.status, sealedBody: row.body } };
  }

  async complete(scope: string, key: string, status: number, sealedBody: string): Promise<void> {
    await this.dataSource.query(`UPDATE idempotency_keys SET status = $3, body = $4 WHERE scope = $1 AND key = $2`, [scope, key, status, sealedBody]);
  }

  async release(scope: string, key: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status IS NULL`, [scope, key]);
  }

  async pruneExpired(): Promise<number> {
    const result = (await this.dataSource.query(`DELETE FROM idempotency_keys WHERE expires_at <= now()`)) as [unknown, number];
    return result[1] ?? 0;
  }
}
