import type { DynamicModule, Type } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

import { BootstrapService } from '@signet/api-keys';
import { explainListenError, PORT_VARIABLES } from '@signet/config';
import { GrpcServiceRegistration, startGrpcServer } from '@signet/contracts';
import { createHttpApp, HealthRegistry, listenHttp } from '@signet/http';

import { StatefulContext, stateProviders } from './context';

export interface ServiceHandle {
  app: NestFastifyApplication;
  httpPort: number;
  grpcPort: number | null;
  /** The bootstrap key, present only on the very first start of an empty database. */
  bootstrap: { orgId: string; apiKey: string } | null;
  close(): Promise<void>;
}

export interface ServiceOptions {
  title: string;
  /** Feature modules served over HTTP. */
  imports: (Type<unknown> | DynamicModule)[];
  /** Internal gRPC services to serve on SIGNET_GRPC_PORT, built from the started app; none → no gRPC listener. */
  grpc?: (app: NestFastifyApplication) => GrpcServiceRegistration[];
}

/**
 * A stateful Signet service: a Nest HTTP app over the given feature modules
 * (with health checks for the database and the bus, and the bootstrap of an
 * empty database), plus its internal gRPC services. Every service process,
 * and the all-in-one, is started here.
 */
export async function startService(ctx: StatefulContext, options: ServiceOptions): Promise<ServiceHandle> {
  const { config, logger } = ctx;
  const app = await createHttpApp({
    title: options.title,
    logger,
    metrics: ctx.metrics,
    providers: stateProviders(ctx),
    imports: options.imports,
    trustedProxies: config.proxy.trustedProxies,
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

  let grpc: { port: number; close(): Promise<void> } | null = null;
  const services = options.grpc?.(app) ?? [];
  if (services.length > 0) {
    try {
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
    bootstrap,
    close: async () => {
      await grpc?.close();
      // Module destroy hooks (e.g. the usage counters' last flush) run before the database closes.
      await app.close();
    },
  };
}
