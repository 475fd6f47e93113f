import { DynamicModule, Global, Module } from '@nestjs/common';

import { ApiKeysModule, SESSION_VERIFIER } from '@signet/api-keys';

import { ACCOUNTS_REPOSITORY, TypeOrmAccountsRepository } from './accounts.repository';
import { SessionStrategy } from './guards/session.strategy';
import { AccountsController } from './http/accounts.controller';
import { SsoController } from './http/sso.controller';
import { TotpController } from './http/totp.controller';
import { ACCOUNTS_OPTIONS, AccountsOptions } from './options';
import { AuthorizationServer } from './sign-in/authorization-server';
import { OidcPayloadPruneJob } from './sign-in/oidc-payload-prune.job';
import { OIDC_PAYLOAD_REPOSITORY, TypeOrmOidcPayloadRepository } from './sign-in/oidc-payload.repository';
import { AccessTokenSessionVerifier } from './sign-in/session-verifier';
import { SsoSignIn } from './sign-in/sso-sign-in';
import { SsoClient } from './sso/sso-client';
import { SSO_REPOSITORY, TypeOrmSsoRepository } from './sso/sso.repository';
import { TOTP_REPOSITORY, TypeOrmTotpRepository } from './totp/totp.repository';
import { AuthenticateUseCase } from './usecases/authenticate/authenticate.usecase';
import { SignupCodeService } from './usecases/bootstrap/signup-code.service';
import { ConfigureSsoUseCase } from './usecases/configure-sso/configure-sso.usecase';
import { CreateAccountUseCase } from './usecases/create/create-account.usecase';
import { DeleteSsoUseCase } from './usecases/delete-sso/delete-sso.usecase';
import { GetSsoUseCase } from './usecases/get-sso/get-sso.usecase';
import { ListAccountsUseCase } from './usecases/list/list-accounts.usecase';
import { SignOutEverywhereUseCase } from './usecases/sign-out/sign-out-everywhere.usecase';
import { SignUpUseCase } from './usecases/sign-up/sign-up.usecase';
import { SsoSignInUseCase } from './usecases/sso-sign-in/sso-sign-in.usecase';
import { CheckSecondFactorUseCase } from './usecases/totp/check-second-factor.usecase';
import { ConfirmTotpUseCase } from './usecases/totp/confirm-totp.usecase';
import { DisableTotpUseCase } from './usecases/totp/disable-totp.usecase';
import { EnrolTotpUseCase } from './usecases/totp/enrol-totp.usecase';
import { GetTotpUseCase } from './usecases/totp/get-totp.usecase';

/**
 * People of an org (accounts, their TOTP second factor), the authorization server they sign in
 * through (/oidc, /sign-in, SSO through the org's own OpenID Provider), and the session verifier the
 * API-key guard uses for bearers that are not API keys. Wiring only; register it once with
 * {@link AccountsModule.forRoot} (global, so every feature's guard sees the verifier).
 * Needs the global providers DATA_SOURCE, SECRET_BOX and LOGGER.
 */
@Module({ controllers: [AccountsController, TotpController, SsoController] })
export class AccountsModule {
  static forRoot(options: AccountsOptions): DynamicModule {
    return {
      module: AccountsModule,
      global: true,
      imports: [ApiKeysModule],
      providers: [
        { provide: ACCOUNTS_OPTIONS, useValue: options },
        { provide: ACCOUNTS_REPOSITORY, useClass: TypeOrmAccountsRepository },
        { provide: OIDC_PAYLOAD_REPOSITORY, useClass: TypeOrmOidcPayloadRepository },
        { provide: TOTP_REPOSITORY, useClass: TypeOrmTotpRepository },
        { provide: SSO_REPOSITORY, useClass: TypeOrmSsoRepository },
        AuthenticateUseCase,
        SignUpUseCase,
        CreateAccountUseCase,
        SignOutEverywhereUseCase,
        ListAccountsUseCase,
        SignupCodeService,
        CheckSecondFactorUseCase,
        EnrolTotpUseCase,
        ConfirmTotpUseCase,
        DisableTotpUseCase,
        GetTotpUseCase,
        SsoClient,
        ConfigureSsoUseCase,
        GetSsoUseCase,
        DeleteSsoUseCase,
        SsoSignInUseCase,
        SsoSignIn,
        AuthorizationServer,
        OidcPayloadPruneJob,
        { provide: SESSION_VERIFIER, useClass: AccessTokenSessionVerifier },
        SessionStrategy,
      ],
      exports: [SESSION_VERIFIER, SignupCodeService, AuthorizationServer],
    };
  }

  /**
   * Only the session verifier, for the services that do not serve /oidc (key service, IdP federation,
   * auth webhooks, directory sync): their /v1 routes accept the people's sessions too, read from the
   * shared store the token service's authorization server writes.
   */
  static sessionsOnly(): DynamicModule {
    return {
      module: AccountSessionsModule,
      providers: [
        { provide: ACCOUNTS_REPOSITORY, useClass: TypeOrmAccountsRepository },
        { provide: OIDC_PAYLOAD_REPOSITORY, useClass: TypeOrmOidcPayloadRepository },
        { provide: SESSION_VERIFIER, useClass: AccessTokenSessionVerifier },
      ],
      exports: [SESSION_VERIFIER],
    };
  }
}

@Global()
@Module({})
class AccountSessionsModule {}
