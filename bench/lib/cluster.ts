import Redis from 'ioredis';

import { benchBackend } from './signet-env';
import { ROOT, SpawnedApp } from './spawned-app';
import { AedesSystem, issueBenchToken, passwordUsers, pool, type Credential } from './systems';

const redisUrl = () => process.env['SIGNET_TEST_REDIS_URL'] || 'redis://127.0.0.1:6379';

/** The pid of the Redis server at `url` (its CPU is part of a cluster's cost). */
async function redisPid(url: string): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const pid = Number(/^process_id:(\d+)/m.exec(await redis.info('server'))?.[1]);
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no process_id in INFO of ${url}`);
    return pid;
  } finally {
    redis.disconnect();
  }
}

/**
 * Signet as deployed for many edges: a token service and `edges` standalone mqtt-edge processes on the
 * machine's PostgreSQL (a fresh database) and Redis (a fresh key prefix), both removed on stop.
 */
export class SignetCluster {
  private constructor(
    private readonly cleanup: () => Promise<void>,
    readonly edgePorts: number[],
    readonly edgePids: number[],
    readonly redisPid: number,
    readonly users: Credential[],
  ) {}

  static async start(o: { edges: number; poolSize: number; cores: string | null }): Promise<SignetCluster> {
    const backend = await benchBackend('cluster', false);
    const apps: SpawnedApp[] = [];
    const stopAll = async () => {
      await Promise.all(apps.map((a) => a.stop()));
      await backend.cleanup();
    };
    try {
      const tokenService = SpawnedApp.start('token-service', backend.env, o.cores);
      apps.push(tokenService);
      await tokenService.ready(60_000);
      const apiKey = /^(sk_\S+)$/m.exec(tokenService.stdout)?.[1];
      if (!apiKey) throw new Error(`no bootstrap key in the token service's banner: ${tokenService.stdout}`);
      // An edge needs neither the database nor the master key: it verifies tokens with the service's keys.
      const { DATABASE_URL: _db, SIGNET_MASTER_KEY: _key, ...edgeEnv } = backend.env;
      // NODE_OPTIONS for the edges, e.g. `--require` of a script starting node:inspector's profiler: how an
      // edge's share of a cross-edge delivery is profiled (--cpu-prof itself is not allowed there).
      const nodeArgs = process.env['BENCH_SIGNET_NODE_ARGS'];
      if (nodeArgs) edgeEnv['NODE_OPTIONS'] = nodeArgs;
      const edges = Array.from({ length: o.edges }, (_, i) =>
        SpawnedApp.start(
          'mqtt-edge',
          { ...edgeEnv, SIGNET_EDGE_ID: `bench-edge-${i}`, SIGNET_TOKEN_SERVICE_GRPC: `127.0.0.1:${tokenService.port('gRPC')}` },
          o.cores,
        ),
      );
      apps.push(...edges);
      await Promise.all(edges.map((e) => e.ready(60_000)));
      const base = `http://127.0.0.1:${tokenService.port('HTTP API')}`;
      const tokens = await pool(o.poolSize, 8, (i) => issueBenchToken(base, apiKey, `bench_u${i}`));
      return new SignetCluster(
        stopAll,
        edges.map((e) => e.port('MQTT')),
        edges.map((e) => e.child.pid!),
        await redisPid(redisUrl()),
        tokens.map((t) => t.mqtt_credentials),
      );
    } catch (err) {
      await stopAll();
      throw err;
    }
  }

  async stop(): Promise<void> {
    await this.cleanup();
  }
}

/** The Redis database the Aedes cluster keeps its state in: flushed when it stops. */
const AEDES_DB = 12;

/**
 * The Aedes column of the cluster scenarios: `instances` Aedes processes sharing the machine's Redis through
 * Aedes's own emitter and persistence (mqemitter-redis, aedes-persistence-redis), the same users on each.
 */
export class AedesCluster {
  private constructor(
    private readonly instances: AedesSystem[],
    private readonly url: string,
    readonly redisPid: number,
    readonly users: Credential[],
  ) {}

  get ports(): number[] {
    return this.instances.map((i) => i.tcpPort);
  }

  get pids(): number[] {
    return this.instances.map((i) => i.pid);
  }

  static async start(o: { instances: number; poolSize: number; cores: string | null }): Promise<AedesCluster> {
    const base = new URL(redisUrl());
    base.pathname = `/${AEDES_DB}`;
    const url = base.toString();
    await flushDb(url);
    const users = passwordUsers(o.poolSize);
    const started = await Promise.allSettled(
      Array.from({ length: o.instances }, () => AedesSystem.start({ poolSize: o.poolSize, cores: o.cores, root: ROOT, redisUrl: url, users })),
    );
    const instances = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) {
      await Promise.all(instances.map((i) => i.stop()));
      throw failed.reason;
    }
    return new AedesCluster(instances, url, await redisPid(url), users);
  }

  async stop(): Promise<void> {
    await Promise.all(this.instances.map((i) => i.stop()));
    await flushDb(this.url);
  }
}

async function flushDb(url: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    await redis.flushdb();
  } finally {
    redis.disconnect();
  }
}
