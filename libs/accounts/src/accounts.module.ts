import { DynamicModule, Module } from '@nestjs/common';

import { ApiKeysModule, SESSION_VERIFIER } from '@signet/api-keys';

import { ACCOUNTS_REPOSITORY, TypeOrmAccountsRepository } from './accounts.repository';
import { AccountsController } from './http/accounts.controller';
import { ACCOUNTS_OPTIONS, AccountsOptions } from './options';
import { AuthorizationServer } from './sign-in/authorization-server';
import { OIDC_PAYLOAD_REPOSITORY, TypeOrmOidcPayloadRepository } from './sign-in/oidc-payload.repository';
import { AccessTokenSessionVerifier } from './sign-in/session-verifier';
import { AuthenticateUseCase } from './usecases/authenticate/authenticate.usecase';
import { SignupCodeService } from './usecases/bootstrap/signup-code.service';
import { CreateAccountUseCase } from './usecases/create/create-account.usecase';
import { ListAccountsUseCase } from './usecases/list/list-accounts.usecase';
import { SignUpUseCase } from './usecases/sign-up/sign-up.usecase';

/**
 * People of an org (accounts), the authorization server they sign in through (/oidc, /sign-in), and
 * the session verifier the API-key guard uses for bearers that are not API keys. Wiring only; register
 * it once with {@link AccountsModule.forRoot} (global, so every feature's guard sees the verifier).
 * Needs the global providers DATA_SOURCE and LOGGER.
 */
@Module({ controllers: [AccountsController] })
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
        AuthenticateUseCase,
        SignUpUseCase,
        CreateAccountUseCase,
        ListAccountsUseCase,
        SignupCodeService,
        AuthorizationServer,
        { provide: SESSION_VERIFIER, useClass: AccessTokenSessionVerifier },
      ],
      exports: [SESSION_VERIFIER, SignupCodeService, AuthorizationServer],
    };
  }
}
