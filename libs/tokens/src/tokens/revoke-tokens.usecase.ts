import { Injectable, Inject } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

import type { ApiKeyPrincipal } from '@signet/api-keys';
import { TOKEN_ID_PATTERN } from '@signet/credentials';
import { DATA_SOURCE, notFound } from '@signet/http';
import { inTransaction, IssuedTokenEntity, RefreshTokenEntity } from '@signet/persistence';

import { REVOCATION_REASONS, RevocationService } from '../revocation/revocation.service';
import { checkUserId } from './token-policy';

/*
 * Lock order, everywhere tokens are revoked or refreshed: refresh_tokens rows
 * first, then issued_tokens rows. A consistent order keeps concurrent
 * refresh/revoke transactions from deadlocking (and inTransaction retries the
 * rare remaining cases).
 */

const tokenNotFound = () => notFound('token_not_found', 'no such token in this org');

/**
 * DELETE /v1/tokens/{id} and POST /v1/users/{id}/revoke. Revoking a token
 * also kills its unused refresh token (otherwise the holder would simply
 * refresh); the revocation reaches the edges through RevocationService.
 */
@Injectable()
export class RevokeTokensUseCase {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly revocations: RevocationService,
  ) {}

  /** Idempotent: revoking a revoked (or expired) token of the caller's org succeeds again. */
  async revokeToken(caller: ApiKeyPrincipal, tokenId: string): Promise<void> {
    if (!TOKEN_ID_PATTERN.test(tokenId)) throw tokenNotFound();
    await inTransaction(this.dataSource, async (m) => {
      await m
        .createQueryBuilder()
        .update(RefreshTokenEntity)
        .set({ revokedAt: () => 'now()' })
        .where('token_id = :tokenId AND org_id = :orgId AND revoked_at IS NULL AND used_at IS NULL', {
          tokenId,
          orgId: caller.orgId,
        })
        .execute();
      const token = await m
        .getRepository(IssuedTokenEntity)
        .createQueryBuilder('t')
        .setLock('pessimistic_write')
        .where('t.id = :tokenId AND t.org_id = :orgId', { tokenId, orgId: caller.orgId })
        .getOne();
      if (!token) throw tokenNotFound();
      if (token.revokedAt !== null) return;
      await m.update(IssuedTokenEntity, { id: token.id }, { revokedAt: () => 'now()', revokeReason: REVOCATION_REASONS.tokenRevoked });
      await this.revocations.revoke([token.id], token.expiresAt, REVOCATION_REASONS.tokenRevoked, m);
    });
  }

  /** Revokes every live token (and refresh token) of a user in the caller's org; returns how many tokens. */
  async revokeUser(caller: ApiKeyPrincipal, userId: string): Promise<number> {
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
      await this.revocations.revoke(
        revoked.map((t) => t.id),
        latest(revoked),
        REVOCATION_REASONS.userRevoked,
        m,
      );
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
