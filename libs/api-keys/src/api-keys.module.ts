import { Module } from '@nestjs/common';

import { ApiKeyGuard } from './api-key.guard';
import { ApiKeysService } from './api-keys.service';
import { BootstrapService } from './bootstrap.service';

/**
 * API key verification, the guard that applies it, and first-start bootstrap.
 * Needs the global providers DATA_SOURCE and LOGGER; REVOCATION_BUS is used
 * when present (cache invalidation across processes).
 */
@Module({
  providers: [ApiKeysService, ApiKeyGuard, BootstrapService],
  exports: [ApiKeysService, ApiKeyGuard, BootstrapService],
})
export class ApiKeysModule {}
