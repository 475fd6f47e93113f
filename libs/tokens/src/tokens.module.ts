import { DynamicModule, Global, Module } from '@nestjs/common';

import { ApiKeysModule } from '@signet/api-keys';

import { AclController } from './http/acl.controller';
import { JwksController } from './http/jwks.controller';
import { OrgSettingsController } from './http/org-settings.controller';
import { TokensController, UsersController } from './http/tokens.controller';
import { TOKENS_OPTIONS, TokensOptions } from './options';
import { ORG_SETTINGS_REPOSITORY, TypeOrmOrgSettingsRepository } from './org-settings.repository';
import { PublicRateLimiter } from './rate-limit/public-rate-limiter';
import { SIGNING_KEY_REPOSITORY, TypeOrmSigningKeyRepository } from './signing-key.repository';
import { SigningKeysService } from './signing-keys/signing-keys.service';
import { TokenIssuer } from './token-issuer';
import { TOKEN_REPOSITORY, TypeOrmTokenRepository } from './token.repository';
import { CheckAclUseCase } from './usecases/check-acl/check-acl.usecase';
import { GetOrgSettingsUseCase } from './usecases/get-org-settings/get-org-settings.usecase';
import { IntrospectTokenUseCase } from './usecases/introspect/introspect.usecase';
import { IssueTokenUseCase } from './usecases/issue/issue.usecase';
import { ListTokensUseCase } from './usecases/list/list.usecase';
import { RefreshTokenUseCase } from './usecases/refresh/refresh.usecase';
import { RevokeTokensUseCase } from './usecases/revoke/revoke.usecase';
import { UpdateOrgSettingsUseCase } from './usecases/update-org-settings/update-org-settings.usecase';

/**
 * The token service: issue/refresh/revoke/list/introspect `tkn_` tokens,
 * signing keys and JWKS, and the org settings they carry (GET/PATCH
 * /v1/org/settings). Wiring only. Register it once with
 * {@link TokensModule.forRoot}; other features (IdP federation) import
 * `TokensModule` itself for its exports. Needs the global providers
 * DATA_SOURCE, SECRET_BOX, LOGGER and RevocationPublisher (see platformProviders;
 * METRICS optional).
 */
@Module({
  imports: [ApiKeysModule],
  controllers: [TokensController, UsersController, JwksController, OrgSettingsController, AclController],
  providers: [
    { provide: TOKEN_REPOSITORY, useClass: TypeOrmTokenRepository },
    { provide: ORG_SETTINGS_REPOSITORY, useClass: TypeOrmOrgSettingsRepository },
    { provide: SIGNING_KEY_REPOSITORY, useClass: TypeOrmSigningKeyRepository },
    SigningKeysService,
    TokenIssuer,
    IssueTokenUseCase,
    RefreshTokenUseCase,
    RevokeTokensUseCase,
    ListTokensUseCase,
    IntrospectTokenUseCase,
    CheckAclUseCase,
    GetOrgSettingsUseCase,
    UpdateOrgSettingsUseCase,
    PublicRateLimiter,
  ],
  // TokenIssuer: for other ways of establishing a user (IdP federation) that end in the same credentials.
  // PublicRateLimiter: one bucket per address for every endpoint called without an API key (the IdP exchange too).
  exports: [SigningKeysService, RevokeTokensUseCase, TokenIssuer, PublicRateLimiter],
})
export class TokensModule {
  /**
   * The registration of the composition root. The options live in a global
   * module around the one TokensModule, so a feature that imports
   * `TokensModule` shares the same instances (and routes) instead of a
   * second, unconfigured copy.
   */
  static forRoot(options: TokensOptions): DynamicModule {
    return {
      module: TokensOptionsModule,
      imports: [TokensModule],
      providers: [{ provide: TOKENS_OPTIONS, useValue: options }],
      exports: [TOKENS_OPTIONS, TokensModule],
    };
  }
}

@Global()
@Module({})
class TokensOptionsModule {}
