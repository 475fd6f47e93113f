import { Injectable, Inject } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

import { TOKEN_ID_PATTERN } from '@signet/credentials';
import {
  DATA_SOURCE,
  inTransaction,
  IssuedTokenEntity,
  preparedQuery,
  RefreshTokenEntity,
  retryingStatement,
  revocationFromInsertRow,
  revocationInsertSql,
  type RevocationInsertRow,
} from '@signet/persistence';
import { RevocationPublisher } from '@signet/revocation';

import { tokenNotFound } from '../../errors';
import { REVOCATION_REASONS } from '../../revocation/revocation-reasons';
import { checkUserId } from '../../token-policy';
import type { RevokeTokenCommand, RevokeUserTokensCommand } from './revoke.command';

/*
 * Lock order, everywhere tokens are revoked or refreshed: refresh_tokens rows
 * first, then issued_tokens rows. A consistent order keeps concurrent
 * refresh/revoke transactions from deadlocking (and inTransaction retries the
 * rare remaining cases).
 */

/**
 * DELETE /v1/tokens/{id} as one statement (its own transaction): each round
 * trip to PostgreSQL (or to the embedded PGlite's worker) is a large share of
 * the revoke-to-disconnect latency, and the former BEGIN, UPDATE, SELECT … FOR
 * UPDATE, UPDATE, INSERT, COMMIT made six. $1 token id, $2 org id, $3 reason.
 *
 * - `refresh`: kills the token's unused refresh tokens, first (lock order).
 * - `token`: the token, only within the caller's org (no row: 404), locked
 *   FOR UPDATE. The uncorrelated count over `refresh` is a one-time filter
 *   evaluated before the scan, so the refresh_tokens rows are locked before
 *   this issued_tokens row, as everywhere else.
 * - `revoked`: marks it revoked unless it already was (idempotent; a
 *   concurrent revoke that committed first is seen through the row lock).
 * - `logged`: appends the `revocations` entry (RevocationStore's INSERT,
 *   {@link revocationInsertSql}) unless the token has expired.
 * The caller publishes `logged` only after the statement returned, i.e.
 * after commit (RevocationPublisher.publishCommitted).
 */
export const REVOKE_TOKEN_SQL = `
WITH refresh AS (
  UPDATE refresh_tokens SET revoked_at = now()
  WHERE token_id = $1 AND org_id = $2 AND revoked_at IS NULL AND used_at IS NULL
  RETURNING 1
), token AS (
  SELECT id, revoked_at FROM issued_tokens
  WHERE id = $1 AND org_id = $2 AND (SELECT count(*) FROM refresh) >= 0
  FOR UPDATE
), revoked AS (
  UPDATE issued_tokens SET revoked_at = now(), revoke_reason = $3
  WHERE id = (SELECT id FROM token WHERE revoked_at IS NULL)
  RETURNING id, expires_at
), logged AS (
  ${revocationInsertSql('SELECT jsonb_build_array(id), expires_at, $3 FROM revoked WHERE expires_at > now()')}
)
SELECT token.revoked_at IS NOT NULL AS already_revoked, logged.seq, logged.until, logged.created_at
FROM token LEFT JOIN logged ON true`;

type RevokeTokenRow = { already_revoked: boolean } & (RevocationInsertRow | { [K in keyof RevocationInsertRow]: null });

/**
 * DELETE /v1/tokens/{id} and POST /v1/users/{id}/revoke. Revoking a token
 * also kills its unused refresh token (otherwise the holder would simply
 * refresh); the revocation reaches the edges through RevocationPublisher.
 */
@Injectable()
export class RevokeTokensUseCase {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(RevocationPublisher) private readonly revocations: RevocationPublisher<EntityManager>,
  ) {}

  /**
   * Idempotent: revoking a revoked (or expired) token of the caller's org succeeds again.
   * One statement ({@link REVOKE_TOKEN_SQL}), so one round trip to the database instead of six.
   */
  async revokeToken({ caller, tokenId }: RevokeTokenCommand): Promise<void> {
    if (!TOKEN_ID_PATTERN.test(tokenId)) throw tokenNotFound();
    // Prepared once per connection: planning this statement cost about as much as running it.
    const rows = await retryingStatement(() =>
      preparedQuery<RevokeTokenRow>(this.dataSource, 'signet_revoke_token', REVOKE_TOKEN_SQL, [tokenId, caller.orgId, REVOCATION_REASONS.tokenRevoked]),
    );
    if (rows.length === 0) throw tokenNotFound();
    const row = rows[0];
    // Revoked before, or expired (nothing to enforce): nothing to publish.
    if (row.already_revoked || row.seq === null) return;
    // Committed (the statement was its own transaction): now the edges may hear of it.
    await this.revocations.publishCommitted(revocationFromInsertRow(row, [tokenId], REVOCATION_REASONS.tokenRevoked), caller.orgId);
  }

  /** Revokes every live token (and refresh token) of a user in the caller's org; returns how many tokens. */
  async revokeUser({ caller, userId }: RevokeUserTokensCommand): Promise<number> {
    checkUserId(userId);
    return inTransaction(this.dataSource, async (m) => {
      await m
        .createQueryBuilder()
        .update(RefreshTokenEntity)
        .set({ revokedAt: () => 'now()' })
        .where('org_id = :orgId AND user_id = :userId AND revoked_at IS NULL AND used_at IS NULL', {
          orgId: caller.orgId,
          userId,
        })
        .execute();
      const revoked = await revokeLiveTokens(m, 'org_id = :orgId AND user_id = :userId', { orgId: caller.orgId, userId }, REVOCATION_REASONS.userRevoked);
      await this.revocations.record(m, {
        credentialIds: revoked.map((t) => t.id),
        until: latest(revoked),
        reason: REVOCATION_REASONS.userRevoked,
        orgId: caller.orgId,
      });
      return revoked.length;
    });
  }
}

export interface RevokedToken {
  id: string;
  expiresAt: Date;
}

/**
 * Marks live (unrevoked, unexpired) tokens matching `where` revoked and
 * returns them. Expired ones are left alone: nothing to enforce.
 */
export async function revokeLiveTokens(
  m: EntityManager,
  where: string,
  params: Record<string, string>,
  reason: string,
): Promise<RevokedToken[]> {
  const result = await m
    .createQueryBuilder()
    .update(IssuedTokenEntity)
    .set({ revokedAt: () => 'now()', revokeReason: reason })
    .where(`${where} AND revoked_at IS NULL AND expires_at > now()`, params)
    // Property names here; the raw rows come back with column names.
    .returning(['id', 'expiresAt'])
    .execute();
  const rows = (Array.isArray(result.raw) ? result.raw : []) as Array<{ id: string; expires_at: Date }>;
  return rows.map((r) => ({ id: r.id, expiresAt: r.expires_at }));
}

export const latest = (tokens: readonly RevokedToken[]): number =>
  tokens.reduce((max, t) => Math.max(max, t.expiresAt.getTime()), 0);
