import type { Provider } from '@nestjs/common';
import type { JWK } from 'jose';

import type { SignetConfig } from '@signet/config';
import { InProcessClusterBus, RedisClusterBus, RedisSessionDirectory, type ClusterBus } from '@signet/mqtt-cluster';
import { createLogger, Logger, SignetMetrics } from '@signet/observability';
import { Database, loadMasterKey, openDatabase, RevocationStore, SecretBox } from '@signet/persistence';
import { InMemoryRevocationBus, RedisRevocationBus, RevocationBus, RevocationSource } from '@signet/revocation';

import { platformProviders } from './platform';
import type { OnClose } from './process';

/** What every Signet process has: validated config, a logger and metrics. */
export interface ProcessContext {
  config: SignetConfig;
  logger: Logger;
  metrics: SignetMetrics;
}

/** A process that serves the API also has the database, the bus and the secret box. */
export interface StatefulContext extends ProcessContext {
  database: Database;
  bus: RevocationBus;
  secretBox: SecretBox;
}

export function processContext(name: string, config: SignetConfig): ProcessContext {
  return { config, logger: createLogger({ name, level: config.logLevel, format: config.logFormat }), metrics: new SignetMetrics() };
}

/** The Redis bus when REDIS_URL is set, else the in-process one (one process only). */
export function createBus(
  ctx: ProcessContext,
  role: 'publisher' | 'subscriber' | 'both',
  source?: RevocationSource,
): RevocationBus {
  const { config, logger } = ctx;
  if (!config.redisUrl) return new InMemoryRevocationBus();
  return new RedisRevocationBus({
    url: config.redisUrl,
    keyPrefix: config.redisKeyPrefix,
    role,
    source,
    maxStalenessMs: config.edge.maxStalenessMs,
    logger: logger.child({ component: 'revocation-bus' }),
  });
}

/**
 * The edges' cluster bus: on Redis when REDIS_URL is set, so edges on that Redis are one broker; else the
 * in-process one (this edge alone). Closed by the edge's close().
 */
export function createClusterBus(ctx: ProcessContext): ClusterBus {
  const { config, logger } = ctx;
  if (!config.redisUrl) return new InProcessClusterBus(config.edge.id);
  return new RedisClusterBus({
    edgeId: config.edge.id,
    url: config.redisUrl,
    keyPrefix: config.redisKeyPrefix,
    leaseMs: config.edge.leaseMs,
    logger: logger.child({ component: 'cluster-bus' }),
  });
}

/**
 * The session registry the edges keep on Redis (GET /v1/sessions, kicks), when REDIS_URL is set; null
 * without Redis, where the only edge is the process's own (MqttEdge.sessions). The caller closes it.
 */
export function createSessionDirectory(ctx: ProcessContext): RedisSessionDirectory | null {
  const { config } = ctx;
  return config.redisUrl ? new RedisSessionDirectory({ url: config.redisUrl, keyPrefix: config.redisKeyPrefix }) : null;
}

export async function openState(ctx: ProcessContext): Promise<Omit<StatefulContext, 'bus'>> {
  const database = await openDatabase(ctx.config, ctx.logger.child({ component: 'database' }));
  const secretBox = new SecretBox(await loadMasterKey(ctx.config, ctx.logger));
  return { ...ctx, database, secretBox };
}

/**
 * The state of a process that serves the API: database, secret box, and a bus
 * that can rebuild Redis's deny state from PostgreSQL (`revocations`). Each is
 * registered with `onClose` as soon as it is open.
 */
export async function openServiceState(
  ctx: ProcessContext,
  onClose: OnClose,
): Promise<{ state: StatefulContext; revocations: RevocationStore }> {
  const opened = await openState(ctx);
  onClose(() => opened.database.close());
  const revocations = new RevocationStore(opened.database.dataSource);
  const bus = createBus(ctx, 'both', revocations);
  await bus.start();
  onClose(() => bus.close());
  return { state: { ...opened, bus }, revocations };
}

/** The DI providers every feature module expects (see the injection tokens in @signet/config, persistence, revocation). */
export const stateProviders = (ctx: StatefulContext): Provider[] => [
  ...platformProviders({ config: ctx.config, dataSource: ctx.database.dataSource, bus: ctx.bus, secretBox: ctx.secretBox }),
];

/** Where an edge gets the token service's public keys from. */
export type JwksFetcher = () => Promise<JWK[]>;
