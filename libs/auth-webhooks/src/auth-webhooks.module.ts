import { DynamicModule, Global, Module } from '@nestjs/common';

import { ApiKeysModule } from '@signet/api-keys';

import { AUTH_WEBHOOK_REPOSITORY, TypeOrmAuthWebhookRepository } from './auth-webhook.repository';
import { AuthWebhooksEdgeHandlers } from './auth-webhooks.edge-handlers';
import { AuthenticatorChainController, AuthWebhookController } from './http/auth-webhook.controller';
import { AUTH_WEBHOOKS_OPTIONS, AuthWebhooksOptions } from './options';
import { AuthWebhookChanges } from './org-changes';
import { DeleteWebhookUseCase } from './usecases/delete/delete.usecase';
import { GetChainUseCase } from './usecases/get-chain/get-chain.usecase';
import { GetWebhookUseCase } from './usecases/get/get.usecase';
import { RegisterWebhookUseCase } from './usecases/register/register.usecase';
import { RevokeWebhookUserUseCase } from './usecases/revoke-user/revoke-user.usecase';
import { RotateWebhookSecretUseCase } from './usecases/rotate-secret/rotate-secret.usecase';
import { SetChainUseCase } from './usecases/set-chain/set-chain.usecase';
import { WebhookClient } from './webhook-client';

/**
 * Auth webhooks and the authenticator chain: `/v1/auth-webhook`,
 * `/v1/authenticator-chain`, and the handlers edges call. Wiring only;
 * register with {@link AuthWebhooksModule.forRoot}. Needs DATA_SOURCE, SECRET_BOX and RevocationPublisher.
 */
@Module({
  imports: [ApiKeysModule],
  controllers: [AuthWebhookController, AuthenticatorChainController],
  providers: [
    { provide: AUTH_WEBHOOK_REPOSITORY, useClass: TypeOrmAuthWebhookRepository },
    { provide: WebhookClient, inject: [AUTH_WEBHOOKS_OPTIONS], useFactory: (options: AuthWebhooksOptions) => new WebhookClient(options) },
    AuthWebhookChanges,
    AuthWebhooksEdgeHandlers,
    RegisterWebhookUseCase,
    RotateWebhookSecretUseCase,
    DeleteWebhookUseCase,
    GetWebhookUseCase,
    GetChainUseCase,
    SetChainUseCase,
    RevokeWebhookUserUseCase,
  ],
  exports: [AuthWebhooksEdgeHandlers, AuthWebhookChanges],
})
export class AuthWebhooksModule {
  static forRoot(options: AuthWebhooksOptions): DynamicModule {
    return {
      module: AuthWebhooksOptionsModule,
      imports: [AuthWebhooksModule],
      providers: [{ provide: AUTH_WEBHOOKS_OPTIONS, useValue: options }],
      exports: [AUTH_WEBHOOKS_OPTIONS, AuthWebhooksModule],
    };
  }
}

@Global()
@Module({})
class AuthWebhooksOptionsModule {}
