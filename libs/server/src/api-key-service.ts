import type { NestFastifyApplication } from '@nestjs/platform-fastify';

import { ApiKeysEdgeHandlers, ApiKeysModule, ApiKeysServiceModule, BootstrapService } from '@signet/api-keys';
import { explainListenError, PORT_VARIABLES } from '@signet/config';
import { apiKeysRegistration, GrpcServerHandle, startGrpcServer } from '@signet/contracts';
import { createHttpApp, HealthRegistry, listenHttp } from '@signet/http';

import { StatefulContext, stateProviders } from './context';

export interface ApiKeyServiceHandle {
  app: NestFastifyApplication;
  httpPort: number;
  grpcPort: number;
  keyHandlers: ApiKeysEdgeHandlers;
  bootstrap: { orgId: string; apiKey: string } | null;
  close(): Promise<void>;
}

/**
 * The API key service: `/v1/keys` (lifecycle, rotation, usage), health,
 * metrics and OpenAPI over HTTP, and gRPC `signet.keys.v1.ApiKeys` for edges
 * (key verification, usage reports).
 */
export async function startApiKeyService(ctx: StatefulContext): Promise<ApiKeyServiceHandle> {
  const { config, logger } = ctx;
  const app = await createHttpApp({
    title: 'Signet API key service',
    logger,
    metrics: ctx.metrics,
    providers: stateProviders(ctx),
    imports: [ApiKeysModule, ApiKeysServiceModule],
  });
  await app.init();
  const health = app.get(HealthRegistry);
  health.register('database', async () => {
    await ctx.database.dataSource.query('SELECT 1');
    return { ok: true };
  });
  health.register('revocation_bus', () => {
    const h = ctx.bus.health();
    return { ok: h.connected, detail: h.connected ? undefined : 'revocation bus unreachable' };
  });
  const bootstrap = await app.get(BootstrapService).ensureBootstrap();
  const keyHandlers = app.get(ApiKeysEdgeHandlers);

  let grpc: GrpcServerHandle;
  try {
    grpc = await startGrpcServer({ port: config.ports.grpc, host: config.host, services: [apiKeysRegistration(keyHandlers)] });
  } catch (err) {
    await app.close();
    throw explainListenError(err, PORT_VARIABLES.grpc, config.ports.grpc, config.host);
  }
  let httpPort: number;
  try {
    httpPort = await listenHttp(app, config.ports.http, config.host, PORT_VARIABLES.http);
  } catch (err) {
    await grpc.close();
    await app.close();
    throw err;
  }
  return {
    app,
    httpPort,
    grpcPort: grpc.port,
    keyHandlers,
    bootstrap,
    close: async () => {
      await grpc.close();
      // Flushes usage counters (UsageService.onModuleDestroy) before the database closes.
      await app.close();
    },
  };
}
