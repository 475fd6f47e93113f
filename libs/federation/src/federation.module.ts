import { Module } from '@nestjs/common';

import { ApiKeysModule } from '@signet/api-keys';
import { TokensModule } from '@signet/tokens';

import { ExchangeController } from './exchange/exchange.controller';
import { ExchangeService } from './exchange/exchange.service';
import { VerifierCache } from './exchange/verifier-cache';
import { IdpProvidersController } from './providers/idp-providers.controller';
import { IdpProvidersService } from './providers/idp-providers.service';

/**
 * IdP federation: /v1/idp-providers (CRUD, API key) and
 * /v1/federation/exchange (IdP token → tkn_ credentials). Needs the global
 * providers SIGNET_CONFIG, DATA_SOURCE, SECRET_BOX, LOGGER (and what
 * TokensModule needs); FEDERATION_OPTIONS is optional.
 */
@Module({
  imports: [ApiKeysModule, TokensModule],
  controllers: [IdpProvidersController, ExchangeController],
  providers: [IdpProvidersService, VerifierCache, ExchangeService],
  exports: [IdpProvidersService, ExchangeService],
})
export class FederationModule {}
