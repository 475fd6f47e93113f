import type { NestFastifyApplication } from '@nestjs/platform-fastify';

import { ApiKeysModule, BootstrapService } from '@signet/api-keys';
import { PORT_VARIABLES, explainListenError } from '@signet/config';
import { startSigningKeysServer } from '@signet/contracts';
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
  close(): Promise<void>;
}

/**
 * The token service: the REST API (tokens, JWKS, health, metrics, OpenAPI)
 * and the internal gRPC endpoint edges use to fetch the public signing keys.
 */
export async function startTokenService(
  ctx: StatefulContext,
  options: { grpc: boolean; title?: string },
): Promise<TokenServiceHandle> {
  const { config, logger } = ctx;
  const app = await createHttpApp({
    title: options.title ?? 'Signet token service',
    logger,
    metrics: ctx.metrics,
    providers: stateProviders(ctx),
    imports: [ApiKeysModule, TokensModule],
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

  let grpc: { port: number; close(): Promise<void> } | null = null;
  if (options.grpc) {
    try {
      grpc = await startSigningKeysServer({
        port: config.ports.grpc,
        host: config.host,
        listPublicKeys: () => signingKeys.publicJwks(),
      });
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
    close: async () => {
      await grpc?.close();
      await app.close();
    },
  };
}
