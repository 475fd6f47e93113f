import { DynamicModule, Module } from '@nestjs/common';

import { ApiKeysModule } from '@signet/api-keys';
import { TokensModule } from '@signet/tokens';

import { ExchangeCallerGuard } from './guards/exchange-caller.guard';
import { IDP_EVENT_REPOSITORY, TypeOrmIdpEventRepository } from './events/idp-events.repository';
import { ExchangeController } from './http/exchange.controller';
import { IdpEventsController, IdpEventsSecretController } from './http/idp-events.controller';
import { IdpProvidersController } from './http/idp-providers.controller';
import { IDP_PROVIDER_REPOSITORY, TypeOrmIdpProviderRepository } from './idp-providers.repository';
import { FEDERATION_OPTIONS, FederationOptions } from './options';
import { TOKEN_ISSUANCE, TokenIssuerIssuance } from './token-issuance.repository';
import { CreateEventsSecretUseCase } from './usecases/create-events-secret/create-events-secret.usecase';
import { CreateProviderUseCase } from './usecases/create-provider/create-provider.usecase';
import { DeleteProviderUseCase } from './usecases/delete-provider/delete-provider.usecase';
import { ExchangeUseCase } from './usecases/exchange/exchange.usecase';
import { GetProviderUseCase } from './usecases/get-provider/get-provider.usecase';
import { ReceiveIdpEventUseCase } from './usecases/receive-event/receive-event.usecase';
import { ListProvidersUseCase } from './usecases/list-providers/list-providers.usecase';
import { UpdateProviderUseCase } from './usecases/update-provider/update-provider.usecase';
import { VerifierCache } from './verification/verifier-cache';

/**
 * IdP federation: /v1/idp-providers (CRUD, API key) and
 * /v1/federation/exchange (IdP token → tkn_ credentials), /v1/idp-events
 * (IdP sign-outs and user changes → revocations). Wiring only.
 * Register it with {@link FederationModule.forRoot}: imported bare, Nest
 * refuses to start (FEDERATION_OPTIONS cannot be resolved) rather than run
 * without options. Needs the global providers SIGNET_CONFIG, DATA_SOURCE,
 * SECRET_BOX, LOGGER (and what TokensModule needs).
 */
@Module({
  imports: [ApiKeysModule, TokensModule],
  controllers: [IdpProvidersController, ExchangeController, IdpEventsSecretController, IdpEventsController],
  providers: [
    { provide: IDP_PROVIDER_REPOSITORY, useClass: TypeOrmIdpProviderRepository },
    { provide: TOKEN_ISSUANCE, useClass: TokenIssuerIssuance },
    { provide: IDP_EVENT_REPOSITORY, useClass: TypeOrmIdpEventRepository },
    VerifierCache,
    // Injects ApiKeysModule's ApiKeyGuard for the backend form.
    ExchangeCallerGuard,
    CreateProviderUseCase,
    ListProvidersUseCase,
    GetProviderUseCase,
    UpdateProviderUseCase,
    DeleteProviderUseCase,
    ExchangeUseCase,
    CreateEventsSecretUseCase,
    ReceiveIdpEventUseCase,
  ],
  exports: [ExchangeUseCase, CreateProviderUseCase, ListProvidersUseCase, GetProviderUseCase, UpdateProviderUseCase, DeleteProviderUseCase],
})
export class FederationModule {
  static forRoot(options: FederationOptions): DynamicModule {
    return { module: FederationModule, providers: [{ provide: FEDERATION_OPTIONS, useValue: options }] };
  }
}
