import { DynamicModule, Global, Module } from '@nestjs/common';

import { API_KEYS_REPOSITORY, TypeOrmApiKeysRepository } from './api-keys.repository';
import { ApiKeysEdgeHandlers } from './grpc/edge-handlers';
import { ApiKeyGuard } from './guards/api-key.guard';
import { KeysController } from './http/keys.controller';
import { KEY_REVOCATION_RECORDER, KeyRevocationsRecorder } from './key-revocation-recorder';
import { KeyRevocations } from './key-revocations';
import { API_KEYS_OPTIONS, ApiKeysOptions } from './options';
import { TypeOrmUsageRepository, USAGE_REPOSITORY } from './usage.repository';
import { BootstrapService } from './usecases/bootstrap/bootstrap.service';
import { CreateKeyUseCase } from './usecases/create/create-key.usecase';
import { KeyExpirySweeper } from './usecases/expire/expiry-sweeper';
import { GetKeyUseCase } from './usecases/get/get-key.usecase';
import { ListKeysUseCase } from './usecases/list/list-keys.usecase';
import { RevokeKeyUseCase } from './usecases/revoke/revoke-key.usecase';
import { RotateKeyUseCase } from './usecases/rotate/rotate-key.usecase';
import { KeyUsageUseCase } from './usecases/usage/key-usage.usecase';
import { UsageService } from './usecases/usage/usage.service';
import { ApiKeysService } from './usecases/verify/api-keys.service';

/** Where `ApiKeysModule.forRoot` puts the options: global, so features importing ApiKeysModule share one instance. */
@Global()
@Module({})
class ApiKeysOptionsModule {}

/**
 * API key verification, the guard that applies it (with usage counting), and
 * first-start bootstrap: what every service that accepts keys needs. Needs
 * the global providers DATA_SOURCE and LOGGER; REVOCATION_BUS is used when
 * present (cache invalidation across processes). The process registers it
 * once with `forRoot(apiKeysOptionsFrom(config))`; feature modules import
 * the plain class (defaults apply where no process registered options).
 */
@Module({
  providers: [
    { provide: API_KEYS_REPOSITORY, useClass: TypeOrmApiKeysRepository },
    { provide: USAGE_REPOSITORY, useClass: TypeOrmUsageRepository },
    ApiKeysService,
    ApiKeyGuard,
    BootstrapService,
    UsageService,
  ],
  exports: [API_KEYS_REPOSITORY, ApiKeysService, ApiKeyGuard, BootstrapService, UsageService],
})
export class ApiKeysModule {
  static forRoot(options: ApiKeysOptions): DynamicModule {
    return {
      module: ApiKeysOptionsModule,
      imports: [ApiKeysModule],
      providers: [{ provide: API_KEYS_OPTIONS, useValue: options }],
      exports: [API_KEYS_OPTIONS, ApiKeysModule],
    };
  }
}

/**
 * The key service proper (`apikey-service`, and the all-in-one): /v1/keys,
 * rotation and revocation through the revocation bus, the expiry sweeper,
 * and the handlers edges call. Needs RevocationPublisher (see platformProviders).
 */
@Module({
  imports: [ApiKeysModule],
  controllers: [KeysController],
  providers: [
    KeyRevocations,
    { provide: KEY_REVOCATION_RECORDER, useClass: KeyRevocationsRecorder },
    CreateKeyUseCase,
    ListKeysUseCase,
    GetKeyUseCase,
    RotateKeyUseCase,
    RevokeKeyUseCase,
    KeyUsageUseCase,
    KeyExpirySweeper,
    ApiKeysEdgeHandlers,
  ],
  exports: [KeyExpirySweeper, ApiKeysEdgeHandlers],
})
export class ApiKeysServiceModule {}
