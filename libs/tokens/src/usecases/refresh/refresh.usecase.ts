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

/** Rotations tried before giving up; one fails only when the refresh token or its org changed meanwhile. */
const ROTATE_ATTEMPTS = 3;

/**
 * POST /v1/tokens/refresh, with rotation and reuse detection (OAuth 2.0
 * Security BCP, RFC 9700 §4.14.2): a refresh token works once and yields a new
 * one in the same family; presenting a used one means two parties hold it,
 * and the server cannot tell which is legitimate, so the whole family is
 * revoked, live access tokens included.
 *
 * Two statements: one reads the refresh token with its access token and org;
 * one spends it and stores its successor, only if it is still unused (and the
 * org's terms unchanged). Of two concurrent refreshes one wins; the other's
 * spend finds it used, and it is then handled as the reuse it is.
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
    for (let attempt = 0; attempt < ROTATE_ATTEMPTS; attempt++) {
      const now = Date.now();
      const grant = await this.tokens.findRefreshGrant(tokenHash);
      if (!grant) throw invalidRefreshToken();
      const { refresh: current, token: previous, terms } = grant;
      if (current.usedAt !== null) return this.reused(tokenHash);
      if (current.revokedAt !== null || current.expiresAt.getTime() <= now || !previous || !terms) throw invalidRefreshToken();

      // Same grant as before; the TTL is re-capped in case the org's limit was lowered since.
      const minted = await this.issuer.mint(
        {
          orgId: current.orgId,
          userId: current.userId,
          clientId: previous.clientId,
          permissions: { publish: previous.permissions.publish, subscribe: previous.permissions.subscribe },
          ttlSeconds: refreshedTtl(previous, this.options, terms.maxTokenTtlSeconds),
          familyId: current.familyId,
          idp: previous.idp,
        },
        terms.willOnRevoke,
        now,
      );
      if (await this.tokens.rotate(current.id, terms, minted.token, minted.refresh)) return this.issuer.issued(minted);
      // Spent, revoked or expired meanwhile, or the org's terms changed: look again.
    }
    throw invalidRefreshToken();
  }

  /** A used refresh token presented again: revokes its family (committed before the 401), under its row's lock. */
  private async reused(tokenHash: string): Promise<never> {
    const reused = await this.tokens.transaction(async (tx) => {
      const current = await tx.lockRefreshToken(tokenHash);
      if (!current || current.usedAt === null) return false;
      const revoked = await tx.revokeFamily(current.familyId, REVOCATION_REASONS.refreshReuse);
      await tx.recordRevocation(revoked, REVOCATION_REASONS.refreshReuse);
      this.logger.warn(
        { orgId: current.orgId, userId: current.userId, familyId: current.familyId, revokedTokens: revoked.length },
        'refresh token reused: its whole family was revoked',
      );
      return true;
    });
    throw reused ? refreshTokenReused() : invalidRefreshToken();
  }
}
