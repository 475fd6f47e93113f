import { Module } from '@nestjs/common';

import { ApiKeyGuard } from './api-key.guard';
import { ApiKeysService } from './api-keys.service';
import { BootstrapService } from './bootstrap.service';
import { KeyExpirySweeper } from './expiry-sweeper';
import { ApiKeysEdgeHandlers } from './grpc-handlers';
import { KeyRevocations } from './key-revocations';
import { KeysController } from './keys.controller';
import { KeysService } from './keys.service';
import { UsageService } from './usage.service';

/**
 * API key verification, the guard that applies it (with usage counting), and
 * first-start bootstrap: what every service that accepts keys needs. Needs
 * the global providers DATA_SOURCE and LOGGER; REVOCATION_BUS is used when
 * present (cache invalidation across processes); API_KEYS_OPTIONS optional.
 */
@Module({
  providers: [ApiKeysService, ApiKeyGuard, BootstrapService, UsageService],
  exports: [ApiKeysService, ApiKeyGuard, BootstrapService, UsageService],
})
export class ApiKeysModule {}

/**
 * The key service proper (`apikey-service`, and the all-in-one): /v1/keys,
 * rotation and revocation through the revocation bus, the expiry sweeper,
 * and the handlers edges call. Needs RevocationPublisher (see platformProviders).
 */
@Module({
  imports: [ApiKeysModule],
  controllers: [KeysController],
  providers: [KeysService, KeyRevocations, KeyExpirySweeper, ApiKeysEdgeHandlers],
  exports: [KeysService, KeyExpirySweeper, ApiKeysEdgeHandlers],
})
export class ApiKeysServiceModule {}
