import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

import type { SignetConfig } from '@signet/config';
import { SIGNET_CONFIG } from '@signet/config';
import { hashOpaqueSecret, REFRESH_TOKEN_PATTERN } from '@signet/credentials';
import { unauthorized } from '@signet/http';
import type { Logger } from '@signet/observability';
import { LOGGER } from '@signet/observability';
import { DATA_SOURCE, inTransaction, IssuedTokenEntity, OrgEntity, RefreshTokenEntity } from '@signet/persistence';
import { RevocationPublisher } from '@signet/revocation';

import { REVOCATION_REASONS } from '../revocation/revocation-reasons';
import { latest, revokeLiveTokens } from './revoke-tokens.usecase';
import { IssuedCredentials, TokenIssuer } from './token-issuer';

type Outcome = { kind: 'issued'; credentials: IssuedCredentials } | { kind: 'invalid' } | { kind: 'reused' };

const invalidRefreshToken = () => unauthorized('invalid_refresh_token', 'the refresh token is invalid, expired or revoked');

/**
 * POST /v1/tokens/refresh, with rotation and reuse detection (OAuth 2.0
 * Security BCP, RFC 9700 §4.14.2): a refresh token works once and yields a new
 * one in the same family; presenting a used one means two parties hold it,
 * and the server cannot tell which is legitimate, so the whole family is
 * revoked, live access tokens included.
 *
 * The refresh token row is locked (SELECT … FOR UPDATE) for the whole
 * exchange: of two concurrent refreshes one wins, the other sees it used.
 */
@Injectable()
export class RefreshTokenUseCase {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(SIGNET_CONFIG) private readonly config: SignetConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly issuer: TokenIssuer,
    @Inject(RevocationPublisher) private readonly revocations: RevocationPublisher<EntityManager>,
  ) {}

  async execute(refreshToken: string): Promise<IssuedCredentials> {
    if (!REFRESH_TOKEN_PATTERN.test(refreshToken)) throw invalidRefreshToken();
    const tokenHash = hashOpaqueSecret(refreshToken);
    // The reuse branch must commit its revocations and still answer 401, so
    // the transaction returns an outcome and errors are raised after it.
    const outcome = await inTransaction<Outcome>(this.dataSource, async (m) => {
      const now = Date.now();
      const current = await m
        .getRepository(RefreshTokenEntity)
        .createQueryBuilder('r')
        .setLock('pessimistic_write')
        .where('r.token_hash = :tokenHash', { tokenHash })
        .getOne();
      if (!current) return { kind: 'invalid' };

      if (current.usedAt !== null) {
        await m
          .createQueryBuilder()
          .update(RefreshTokenEntity)
          .set({ revokedAt: () => 'now()' })
          .where('family_id = :familyId AND revoked_at IS NULL', { familyId: current.familyId })
          .execute();
        const revoked = await revokeLiveTokens(m, 'family_id = :familyId', { familyId: current.familyId }, REVOCATION_REASONS.refreshReuse);
        await this.revocations.record(m, { credentialIds: revoked.map((t) => t.id), until: latest(revoked), reason: REVOCATION_REASONS.refreshReuse, orgId: current.orgId });
        this.logger.warn(
          { orgId: current.orgId, userId: current.userId, familyId: current.familyId, revokedTokens: revoked.length },
          'refresh token reused: its whole family was revoked',
        );
        return { kind: 'reused' };
      }
      if (current.revokedAt !== null || current.expiresAt.getTime() <= now) return { kind: 'invalid' };

      const previous = await m.findOneBy(IssuedTokenEntity, { id: current.tokenId });
      const org = await m.findOneBy(OrgEntity, { id: current.orgId });
      if (!previous || !org) return { kind: 'invalid' };
      await m.update(RefreshTokenEntity, { id: current.id }, { usedAt: () => 'now()' });

      // Same grant as before; the TTL is re-capped in case the org's limit was lowered since.
      const previousTtl = Math.round((previous.expiresAt.getTime() - previous.issuedAt.getTime()) / 1000);
      const cap = Math.min(this.config.tokens.maxTtlSeconds, org.maxTokenTtlSeconds ?? Infinity);
      const credentials = await this.issuer.issue(
        m,
        {
          orgId: current.orgId,
          userId: current.userId,
          clientId: previous.clientId,
          permissions: { publish: previous.permissions.publish, subscribe: previous.permissions.subscribe },
          ttlSeconds: Math.max(1, Math.min(previousTtl, cap)),
          familyId: current.familyId,
        },
        now,
      );
      return { kind: 'issued', credentials };
    });

    if (outcome.kind === 'reused') {
      throw unauthorized('refresh_token_reused', 'this refresh token was already used; every token of its family has been revoked');
    }
    if (outcome.kind === 'invalid') throw invalidRefreshToken();
    return outcome.credentials;
  }
}
