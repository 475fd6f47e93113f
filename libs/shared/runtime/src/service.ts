import type { DynamicModule, Type } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

import { explainListenError, PORT_VARIABLES } from '@signet/config';
import { GrpcServiceRegistration, startGrpcServer } from '@signet/contracts';
import { auditRecorderOf } from '@signet/audit';
import { createHttpApp, HealthRegistry, listenHttp } from '@signet/http';

import { StatefulContext, stateProviders } from './context';

/** The first org's API key, created on the very first start of an empty database. */
export interface Bootstrap {
  orgId: string;
  apiKey: string;
  /** For the audit log (never the key itself). */
  keyId?: string;
  signupCodeIssued?: boolean;
}

export interface ServiceHandle {
  app: NestFastifyApplication;
  httpPort: number;
  grpcPort: number | null;
  /** The bootstrap key, present only on the very first start of an empty database (once {@link completeBootstrap} ran). */
  bootstrap: Bootstrap | null;
  /** Runs the deferred bootstrap (see ServiceOptions.deferBootstrap) and records its key in `bootstrap`. */
  completeBootstrap(): Promise<Bootstrap | null>;
  close(): Promise<void>;
}

export interface ServiceOptions {
  title: string;
  /** Feature modules served over HTTP. */
  imports: (Type<unknown> | DynamicModule)[];
  /** Internal gRPC services to serve on SIGNET_GRPC_PORT, built from the started app; none → no gRPC listener. */
  grpc?: (app: NestFastifyApplication) => GrpcServiceRegistration[];
  /**
   * Creates the first org and its key when the database is empty, once every
   * listener is bound: a start that fails (a port taken) creates nothing, so
   * the next start bootstraps and shows the key.
   */
  bootstrap?: (app: NestFastifyApplication) => Promise<Bootstrap | null>;
  /** The process binds more listeners after this service (the all-in-one's MQTT edge): it calls completeBootstrap() once they are bound. */
  deferBootstrap?: boolean;
}

/**
 * A stateful Signet service: a Nest HTTP app over the given feature modules
 * (with health checks for the database and the bus, and the bootstrap of an
 * empty database once it listens), plus its internal gRPC services.
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
    requestTimeoutMs: config.deadlines.requestTimeoutMs,
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
  const close = async () => {
    await grpc?.close();
    // Module destroy hooks (e.g. the usage counters' last flush) run before the database closes.
    await app.close();
  };
  const handle: ServiceHandle = {
    app,
    httpPort,
    grpcPort: grpc?.port ?? null,
    bootstrap: null,
    completeBootstrap: async () => {
      handle.bootstrap = (await options.bootstrap?.(app)) ?? null;
      if (handle.bootstrap) auditBootstrap(app, handle.bootstrap);
      return handle.bootstrap;
    },
    close,
  };
  if (!options.deferBootstrap) {
    try {
      await handle.completeBootstrap();
    } catch (err) {
      await close();
      throw err;
    }
  }
  return handle;
}

/** The first start, in the audit log: the org, its key and (where sign-in is served) the sign-up code, by ids. */
function auditBootstrap(app: NestFastifyApplication, { orgId, keyId, signupCodeIssued }: Bootstrap): void {
  auditRecorderOf(app).record({
    type: 'admin',
    orgId,
    actor: { kind: 'system', id: null },
    action: 'bootstrap',
    target: orgId,
    outcome: 'success',
    details: { key_id: keyId ?? null, ...(signupCodeIssued === undefined ? {} : { signup_code_issued: signupCodeIssued }) },
  });
}
