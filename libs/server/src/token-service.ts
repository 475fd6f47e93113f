import { ApiKeysEdgeHandlers, ApiKeysModule, ApiKeysServiceModule } from '@signet/api-keys';
import { apiKeysRegistration, signingKeysRegistration } from '@signet/contracts';
import { FederationModule, federationOptionsFrom } from '@signet/federation';
import { SigningKeysService, TokenRetentionModule, TokensModule } from '@signet/tokens';

import type { StatefulContext } from './context';
import { ServiceHandle, startService } from './service';

export interface TokenServiceHandle extends ServiceHandle {
  signingKeys: SigningKeysService;
  /** Present when this process is also the API key service (all-in-one). */
  keyHandlers: ApiKeysEdgeHandlers | null;
}

/**
 * The token service: the REST API (tokens, JWKS, health, metrics, OpenAPI)
 * and the internal gRPC endpoint edges use to fetch the public signing keys;
 * and the retention job that deletes token data past retention;
 * in the all-in-one also the API key service (`keyService`) and IdP
 * federation (`federation`).
 */
export async function startTokenService(
  ctx: StatefulContext,
  options: { title?: string; keyService?: boolean; federation?: boolean } = {},
): Promise<TokenServiceHandle> {
  const keyService = options.keyService ?? false;
  const handle = await startService(ctx, {
    title: options.title ?? 'Signet token service',
    imports: [
      ApiKeysModule,
      ...(keyService ? [ApiKeysServiceModule] : []),
      TokensModule,
      // Only the token service prunes token data (one job per replica, serialised by an advisory lock).
      TokenRetentionModule,
      ...(options.federation ? [FederationModule.forRoot(federationOptionsFrom(ctx.config))] : []),
    ],
    grpc: (app) => {
      const signingKeys = app.get(SigningKeysService);
      const services = [signingKeysRegistration(() => signingKeys.publicJwks())];
      return keyService ? [...services, apiKeysRegistration(app.get(ApiKeysEdgeHandlers))] : services;
    },
  });
  return {
    ...handle,
    signingKeys: handle.app.get(SigningKeysService),
    keyHandlers: keyService ? handle.app.get(ApiKeysEdgeHandlers) : null,
  };
}
