import type { NestFastifyApplication } from '@nestjs/platform-fastify';

import { ApiKeysEdgeHandlers, ApiKeysModule, ApiKeysServiceModule, BootstrapService } from '@signet/api-keys';
import { PORT_VARIABLES, explainListenError } from '@signet/config';
import { apiKeysRegistration, GrpcServiceRegistration, signingKeysRegistration, startGrpcServer } from '@signet/contracts';
import { createHttpApp, HealthRegistry, listenHttp } from '@signet/http';
import { SigningKeysService, TokensModule } from '@signet/tokens';

import { StatefulContext, stateProviders } from './context';

export interface TokenServiceHandle {
  app: NestFastifyApplication;
  httpPort: number;
  grpcPort: number | null;
  signingKeys: SigningKeysService;
  /** The bootstrap key, present only on the very first start of an empty database. */
  bootstrap: { orgId: string; apiKey: string } | null;
  /** Present when this process is also the API key service (all-in-one). */
  keyHandlers: ApiKeysEdgeHandlers | null;
  close(): Promise<void>;
}

/**
 * The token service: the REST API (tokens, JWKS, health, metrics, OpenAPI)
 * and the internal gRPC endpoint edges use to fetch the public signing keys.
 */
export async function startTokenService(
  ctx: StatefulContext,
  options: { grpc: boolean; title?: string; keyService?: boolean },
): Promise<TokenServiceHandle> {
  const { config, logger } = ctx;
  const app = await createHttpApp({
    title: options.title ?? 'Signet token service',
    logger,
    metrics: ctx.metrics,
    providers: stateProviders(ctx),
    imports: options.keyService ? [ApiKeysModule, ApiKeysServiceModule, TokensModule] : [ApiKeysModule, TokensModule],
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

  const signingKeys = app.get(SigningKeysService);
  const bootstrap = await app.get(BootstrapService).ensureBootstrap();
  const keyHandlers = options.keyService ? app.get(ApiKeysEdgeHandlers) : null;

  let grpc: { port: number; close(): Promise<void> } | null = null;
  if (options.grpc) {
    try {
      const services: GrpcServiceRegistration[] = [signingKeysRegistration(() => signingKeys.publicJwks())];
      if (keyHandlers) services.push(apiKeysRegistration(keyHandlers));
      grpc = await startGrpcServer({ port: config.ports.grpc, host: config.host, services });
    } catch (err) {
      await app.close();
      throw explainListenError(err, PORT_VARIABLES.grpc, config.ports.grpc, config.host);
    }
  }
  let httpPort: number;
  try {
    httpPort = await listenHttp(app, config.ports.http, config.host, PORT_VARIABLES.http);
  } catch (err) {
    await grpc?.close();
    await app.close();
    throw err;
  }
  return {
    app,
    httpPort,
    grpcPort: grpc?.port ?? null,
    signingKeys,
    bootstrap,
    keyHandlers,
    close: async () => {
      await grpc?.close();
      await app.close();
    },
  };
}
