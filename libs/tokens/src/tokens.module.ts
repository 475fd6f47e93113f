import { Module } from '@nestjs/common';

import { ApiKeysModule } from '@signet/api-keys';

import { OrgSettingsController } from './org-settings/org-settings.controller';
import { OrgSettingsService } from './org-settings/org-settings.service';
import { PublicRateLimiter } from './rate-limit/public-rate-limiter';
import { JwksController } from './signing-keys/jwks.controller';
import { SigningKeysService } from './signing-keys/signing-keys.service';
import { IssueTokenUseCase } from './tokens/issue-token.usecase';
import { RefreshTokenUseCase } from './tokens/refresh-token.usecase';
import { RevokeTokensUseCase } from './tokens/revoke-tokens.usecase';
import { TokenIssuer } from './tokens/token-issuer';
import { TokenQueriesService } from './tokens/token-queries.service';
import { TokensController, UsersController } from './tokens/tokens.controller';

/**
 * The token service: issue/refresh/revoke/list/introspect `tkn_` tokens,
 * signing keys and JWKS, and the org settings they carry (GET/PATCH
 * /v1/org/settings). Needs the global providers SIGNET_CONFIG,
 * DATA_SOURCE, SECRET_BOX, LOGGER and RevocationPublisher (see platformProviders).
 */
@Module({
  imports: [ApiKeysModule],
  controllers: [TokensController, UsersController, JwksController, OrgSettingsController],
  providers: [
    SigningKeysService,
    TokenIssuer,
    IssueTokenUseCase,
    RefreshTokenUseCase,
    RevokeTokensUseCase,
    TokenQueriesService,
    OrgSettingsService,
    PublicRateLimiter,
  ],
  // TokenIssuer: for other ways of establishing a user (IdP federation) that end in the same credentials.
  // PublicRateLimiter: one bucket per address for every endpoint called without an API key (the IdP exchange too).
  exports: [SigningKeysService, RevokeTokensUseCase, TokenQueriesService, TokenIssuer, PublicRateLimiter],
})
export class TokensModule {}
