import { Inject, Injectable } from '@nestjs/common';

import { hashOpaqueSecret, REFRESH_TOKEN_PATTERN } from '@signet/credentials';
import { LOGGER } from '@signet/observability';
import type { Logger } from '@signet/observability';

import { invalidRefreshToken, refreshTokenReused } from '../../errors';
import { TOKENS_OPTIONS, TokensOptions } from '../../options';
import { REVOCATION_REASONS } from '../../revocation/revocation-reasons';
import { IssuedCredentials, TokenIssuer } from '../../token-issuer';
import { refreshedTtl } from '../../token-policy';
import { TOKEN_REPOSITORY, TokenRepository } from '../../token.repository';
import type { RefreshTokenCommand } from './refresh.command';

type Outcome = { kind: 'issued'; credentials: IssuedCredentials } | { kind: 'invalid' } | { kind: 'reused' };

/**
 * POST /v1/tokens/refresh, with rotation and reuse detection (OAuth 2.0
 * Security BCP, RFC 9700 §4.14.2): a refresh token works once and yields a new
 * one in the same family; presenting a used one means two parties hold it,
 * and the server cannot tell which is legitimate, so the whole family is
 * revoked, live access tokens included.
 *
 * The refresh token row is locked for the whole exchange: of two concurrent
 * refreshes one wins, the other sees it used.
 */
@Injectable()
export class RefreshTokenUseCase {
  constructor(
    @Inject(TOKEN_REPOSITORY) private readonly tokens: TokenRepository,
    @Inject(TOKENS_OPTIONS) private readonly options: TokensOptions,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly issuer: TokenIssuer,
  ) {}

  async execute(command: RefreshTokenCommand): Promise<IssuedCredentials> {
    if (!REFRESH_TOKEN_PATTERN.test(command.refreshToken)) throw invalidRefreshToken();
    const tokenHash = hashOpaqueSecret(command.refreshToken);
    // The reuse branch must commit its revocations and still answer 401, so
    // the transaction returns an outcome and errors are raised after it.
    const outcome = await this.tokens.transaction<Outcome>(async (tx) => {
      const now = Date.now();
      const current = await tx.lockRefreshToken(tokenHash);
      if (!current) return { kind: 'invalid' };

      if (current.usedAt !== null) {
        const revoked = await tx.revokeFamily(current.familyId, REVOCATION_REASONS.refreshReuse);
        await tx.recordRevocation(revoked, REVOCATION_REASONS.refreshReuse);
        this.logger.warn(
          { orgId: current.orgId, userId: current.userId, familyId: current.familyId, revokedTokens: revoked.length },
          'refresh token reused: its whole family was revoked',
        );
        return { kind: 'reused' };
      }
      if (current.revokedAt !== null || current.expiresAt.getTime() <= now) return { kind: 'invalid' };

      const previous = await tx.findToken(current.tokenId);
      const org = await tx.findOrg(current.orgId);
      if (!previous || !org) return { kind: 'invalid' };
      await tx.markRefreshTokenUsed(current.id);

      // Same grant as before; the TTL is re-capped in case the org's limit was lowered since.
      const credentials = await this.issuer.issue(
        tx,
        {
          orgId: current.orgId,
          userId: current.userId,
          clientId: previous.clientId,
          permissions: { publish: previous.permissions.publish, subscribe: previous.permissions.subscribe },
          ttlSeconds: refreshedTtl(previous, this.options, org.maxTokenTtlSeconds),
          familyId: current.familyId,
          idp: previous.idp,
        },
        now,
      );
      return { kind: 'issued', credentials };
    });

    if (outcome.kind === 'reused') throw refreshTokenReused();
    if (outcome.kind === 'invalid') throw invalidRefreshToken();
    return outcome.credentials;
  }
}
