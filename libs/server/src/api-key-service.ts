import { ApiKeysEdgeHandlers, ApiKeysModule, apiKeysOptionsFrom, ApiKeysServiceModule } from '@signet/api-keys';
import { apiKeysRegistration } from '@signet/contracts';

import type { StatefulContext } from './context';
import { ServiceHandle, startService } from './service';

export interface ApiKeyServiceHandle extends ServiceHandle {
  keyHandlers: ApiKeysEdgeHandlers;
}

/**
 * The API key service: `/v1/keys` (lifecycle, rotation, usage), health,
 * metrics and OpenAPI over HTTP, and gRPC `signet.keys.v1.ApiKeys` for edges
 * (key verification, usage reports).
 */
export async function startApiKeyService(ctx: StatefulContext): Promise<ApiKeyServiceHandle> {
  const handle = await startService(ctx, {
    title: 'Signet API key service',
    imports: [ApiKeysModule.forRoot(apiKeysOptionsFrom(ctx.config)), ApiKeysServiceModule],
    grpc: (app) => [apiKeysRegistration(app.get(ApiKeysEdgeHandlers))],
  });
  return { ...handle, keyHandlers: handle.app.get(ApiKeysEdgeHandlers) };
}
