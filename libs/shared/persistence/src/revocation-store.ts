import type { DataSource, EntityManager } from 'typeorm';

import { RevocationEntity } from './entities';
import { runAfterCommit } from './transactions';

/**
 * One durable revocation, shaped like `RevocationEvent` of @signet/revocation
 * (structurally identical, so a store can be handed to the bus as its
 * `RevocationSource` without this library depending on the bus).
 */
export interface RevocationRecord {
  seq: number;
  credentialIds: string[];
  /** ms epoch: the latest expiry among the listed credentials. */
  until: number;
  reason: string;
  /** ms epoch: when it was recorded. */
  at: number;
}

/** What is revoked (RevocationPublisher's `Revocation` of @signet/revocation, structurally). */
export interface RevocationEntry {
  credentialIds: readonly string[];
  /** ms epoch: the latest expiry among the listed credentials. */
  until: number;
  reason: string;
}

/** The row {@link revocationInsertSql} returns. */
export interface RevocationInsertRow {
  seq: string;
  until: Date;
  created_at: Date;
}

/**
 * The one INSERT into `revocations`, for {@link RevocationStore.append} and
 * for a hot-path statement that appends from rows of its own (a CTE of the
 * single-statement token revoke). `rows` is a VALUES list or a SELECT
 * yielding (credential_ids jsonb, until timestamptz, reason text).
 */
export const revocationInsertSql = (rows: string): string =>
  `INSERT INTO revocations (credential_ids, until, reason) ${rows} RETURNING seq, until, created_at`;

/** The record of a row returned by {@link revocationInsertSql}. */
export function revocationFromInsertRow(row: RevocationInsertRow, credentialIds: readonly string[], reason: string): RevocationRecord {
  return {
    seq: Number(row.seq),
    credentialIds: [...credentialIds],
    until: row.until.getTime(),
    reason,
    at: row.created_at.getTime(),
  };
}

/** Longer than any revoking transaction takes between taking its seq and committing. */
export const LATE_COMMIT_LOOK_BACK_MS = 60_000;

const APPEND_SQL = revocationInsertSql('VALUES ($1::jsonb, $2, $3)');

/**
 * The `revocations` table: append inside the caller's transaction (so the log
 * entry commits or rolls back with the `revoked_at` updates), list what is
 * still in force to rebuild the bus' deny state after Redis lost it. It is
 * the transactional outbox too: an entry's `published_at` stays null until
 * the bus has it, and the bus's relay publishes the null ones. Shaped as the
 * `RevocationLog` RevocationPublisher records through, and as the bus's
 * `RevocationSource`.
 */
export class RevocationStore {
  constructor(private readonly dataSource: DataSource) {}

  async append(manager: EntityManager, entry: RevocationEntry): Promise<RevocationRecord> {
    const rows: RevocationInsertRow[] = await manager.query(APPEND_SQL, [
      JSON.stringify(entry.credentialIds),
      new Date(entry.until),
      entry.reason,
    ]);
    return revocationFromInsertRow(rows[0], entry.credentialIds, entry.reason);
  }

  /** Runs `callback` after `manager`'s transaction commits (see {@link runAfterCommit}). */
  afterCommit(manager: EntityManager, callback: () => Promise<void>): void {
    runAfterCommit(manager, callback);
  }

  /** Every entry still in force at `nowMs`, oldest first. Implements RevocationSource. */
  async listActive(nowMs: number): Promise<RevocationRecord[]> {
    return this.list('r.until > :now', { now: new Date(nowMs) });
  }

  /** The outbox: entries not yet on the bus, oldest first (ix_revocations_unpublished). Implements RevocationSource. */
  async listUnpublished(limit: number): Promise<RevocationRecord[]> {
    return this.list('r.published_at IS NULL', {}, limit);
  }

  /** Takes entries out of the outbox once they are on the bus. Implements RevocationSource. */
  async markPublished(seqs: readonly number[]): Promise<void> {
    if (seqs.length === 0) return;
    await this.dataSource.query('UPDATE revocations SET published_at = now() WHERE seq = ANY($1::bigint[]) AND published_at IS NULL', [seqs.map(String)]);
  }

  /**
   * What an edge polls when its bus is down (the second path, over gRPC): entries in force with a seq
   * after `afterSeq`, and those recorded in the last `lookBackMs` whatever their seq (a transaction that
   * took its seq before another's but committed after it), oldest first, at most `limit`.
   */
  async listSince(afterSeq: number, limit: number, lookBackMs = LATE_COMMIT_LOOK_BACK_MS, nowMs = Date.now()): Promise<RevocationRecord[]> {
    return this.list(
      'r.until > :now AND (r.seq > :after OR r.created_at > :since)',
      { now: new Date(nowMs), after: String(afterSeq), since: new Date(nowMs - lookBackMs) },
      limit,
    );
  }

  private async list(where: string, parameters: Record<string, unknown>, limit?: number): Promise<RevocationRecord[]> {
    const query = this.dataSource.getRepository(RevocationEntity).createQueryBuilder('r').where(where, parameters).orderBy('r.seq', 'ASC');
    const rows = await (limit === undefined ? query : query.limit(limit)).getMany();
    return rows.map((r) => ({
      seq: Number(r.seq),
      credentialIds: r.credentialIds,
      until: r.until.getTime(),
      reason: r.reason,
      at: r.createdAt.getTime(),
    }));
  }

  /**
   * Deletes up to `limit` entries whose `until` is at or before `beforeMs`
   * (no longer in force then), oldest first; returns how many. Pass a
   * `beforeMs` no later than now: an entry still in force must stay, the
   * bus is rebuilt from them.
   */
  async prune(beforeMs: number, limit = 10_000, manager: EntityManager = this.dataSource.manager): Promise<number> {
    const result = await manager
      .createQueryBuilder()
      .delete()
      .from(RevocationEntity)
      .where('seq IN (SELECT seq FROM revocations WHERE until <= :before ORDER BY until LIMIT :limit)', {
        before: new Date(beforeMs),
        limit,
      })
      .execute();
    return result.affected ?? 0;
  }
}
