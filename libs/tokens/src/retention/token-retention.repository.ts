import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';

import { DATA_SOURCE } from '@signet/persistence';
import { ADVISORY_LOCKS, advisoryXactLock, inTransaction, IssuedTokenEntity, RefreshTokenEntity, RevocationStore } from '@signet/persistence';

/** What one pass deleted. */
export interface PruneCounts {
  issuedTokens: number;
  refreshTokens: number;
  revocations: number;
}

export type PruneTable = keyof PruneCounts;

/** Rows per batch: each batch is one short transaction. */
export const RETENTION_BATCH = 1_000;

/** The SQL of the retention job (see TokenRetentionJob for the rules). */
export interface TokenRetentionRepository {
  /**
   * Deletes at most {@link RETENTION_BATCH} rows of `table` that ended before
   * `cutoff`, in one transaction under the retention advisory lock (replicas
   * take turns); returns how many.
   */
  deleteBatch(table: PruneTable, cutoff: Date): Promise<number>;
}

export const TOKEN_RETENTION_REPOSITORY = Symbol('TOKEN_RETENTION_REPOSITORY');

@Injectable()
export class TypeOrmTokenRetentionRepository implements TokenRetentionRepository {
  private readonly revocations: RevocationStore;

  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {
    this.revocations = new RevocationStore(dataSource);
  }

  deleteBatch(table: PruneTable, cutoff: Date): Promise<number> {
    return inTransaction(this.dataSource, async (m) => {
      await advisoryXactLock(m, ADVISORY_LOCKS.retention);
      switch (table) {
        case 'refreshTokens':
          return deleteWhere(m, RefreshTokenEntity, 'id IN (SELECT id FROM refresh_tokens WHERE expires_at < :cutoff OR revoked_at < :cutoff LIMIT :limit)', cutoff);
        case 'issuedTokens':
          return deleteWhere(
            m,
            IssuedTokenEntity,
            `id IN (SELECT t.id FROM issued_tokens t
                     WHERE t.expires_at < :cutoff AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.token_id = t.id)
                     LIMIT :limit)`,
            cutoff,
          );
        case 'revocations':
          return this.revocations.prune(cutoff.getTime(), RETENTION_BATCH, m);
      }
    });
  }
}

/** One batch: deletes the rows `where` selects (it gets `:cutoff` and `:limit`); returns how many. */
async function deleteWhere(m: EntityManager, entity: EntityTarget<ObjectLiteral>, where: string, cutoff: Date): Promise<number> {
  const result = await m.createQueryBuilder().delete().from(entity).where(where, { cutoff, limit: RETENTION_BATCH }).execute();
  return result.affected ?? 0;
}
