import type { DataSource, EntityManager } from 'typeorm';

import { RevocationEntity } from './entities';

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

/**
 * The `revocations` table: append inside the caller's transaction (so the log
 * entry commits or rolls back with the `revoked_at` updates), list what is
 * still in force to rebuild the bus' deny state after Redis lost it.
 */
export class RevocationStore {
  constructor(private readonly dataSource: DataSource) {}

  async append(manager: EntityManager, credentialIds: readonly string[], untilMs: number, reason: string): Promise<RevocationRecord> {
    const rows: Array<{ seq: string; created_at: Date }> = await manager.query(
      `INSERT INTO revocations (credential_ids, until, reason) VALUES ($1::jsonb, $2, $3) RETURNING seq, created_at`,
      [JSON.stringify(credentialIds), new Date(untilMs), reason],
    );
    return {
      seq: Number(rows[0].seq),
      credentialIds: [...credentialIds],
      until: untilMs,
      reason,
      at: rows[0].created_at.getTime(),
    };
  }

  /** Every entry still in force at `nowMs`, oldest first. Implements RevocationSource. */
  async listActive(nowMs: number): Promise<RevocationRecord[]> {
    const rows = await this.dataSource
      .getRepository(RevocationEntity)
      .createQueryBuilder('r')
      .where('r.until > :now', { now: new Date(nowMs) })
      .orderBy('r.seq', 'ASC')
      .getMany();
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
