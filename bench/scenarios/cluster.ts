import { aedesClusterUnavailable, SignetCluster } from '../lib/cluster';
import type { MetricSpec, Scenario, ScenarioContext } from '../lib/scenario';
import { runPubSub, type PubSubShape, type PubSubTarget } from './pubsub';

/** Edges of the Signet cluster under test (a token service besides). */
export const CLUSTER_EDGES = 3;

export const CLUSTER_METRICS: MetricSpec[] = [
  // Publisher and subscribers on different edges: every delivery crosses Redis.
  { metric: 'deliveries', unit: 'msg/cpu-s', better: 'higher' },
  // The same load with every client on one edge of the same cluster.
  { metric: 'deliveries_one_edge', unit: 'msg/cpu-s', better: 'higher' },
  // Cost per delivery spread over the edges, over its cost on one edge.
  { metric: 'cost_growth', unit: '×', better: 'lower' },
];

// One cluster for every cluster scenario and round: starting it takes seconds; dispose() stops it.
let cluster: Promise<SignetCluster> | null = null;

function target(c: SignetCluster, shape: PubSubShape, spread: boolean): PubSubTarget {
  const n = c.edgePorts.length;
  return {
    name: 'signet-cluster',
    // Per CPU-second of every edge and of Redis together (the token service has no part in a delivery).
    pids: [...c.edgePids, c.redisPid],
    user: (i) => c.users[i % c.users.length],
    port: (role, index) => {
      if (!spread) return c.edgePorts[0];
      if (role === 'publisher') return c.edgePorts[index % n];
      // Never the publisher's edge: pairs one edge along, fan-out over the others.
      return c.edgePorts[shape.topology === 'pairs' ? (index + 1) % n : 1 + (index % (n - 1))];
    },
    awaitRoutes: true,
  };
}

const warned = new Set<string>();

/**
 * A pub/sub shape on Signet as a token service and {@link CLUSTER_EDGES} standalone edges on Redis: the load
 * spread so that publisher and subscribers are on different edges, next to the same load on one edge.
 * The Aedes column is Aedes on two instances sharing Redis, when its packages are there.
 */
export function clusterScenario(name: string, shape: Omit<PubSubShape, 'transport'>): Scenario {
  const full: PubSubShape = { transport: 'tcp', ...shape };
  return {
    name,
    metrics: CLUSTER_METRICS,
    applies: (system) => system.name === 'signet' || system.name === 'aedes',
    run: async (ctx: ScenarioContext) => {
      if (ctx.system.name === 'aedes') {
        const reason = aedesClusterUnavailable();
        if (!warned.has(name)) process.stderr.write(`${name} aedes: n/a, ${reason}\n`);
        warned.add(name);
        return { deliveries: null, deliveries_one_edge: null, cost_growth: null };
      }
      cluster ??= SignetCluster.start({ edges: CLUSTER_EDGES, poolSize: ctx.mode.poolSize, cores: ctx.cores });
      const c = await cluster;
      // Alternate which load goes first, round by round.
      const order = ctx.round % 2 === 1 ? [false, true] : [true, false];
      const figures = new Map<boolean, number | null>();
      for (const spread of order) figures.set(spread, await runPubSub(ctx, full, target(c, full, spread)));
      const [spread, one] = [figures.get(true) ?? null, figures.get(false) ?? null];
      return { deliveries: spread, deliveries_one_edge: one, cost_growth: spread && one ? one / spread : null };
    },
    dispose: async () => {
      const started = cluster;
      cluster = null;
      if (started) await (await started.catch(() => null))?.stop();
    },
  };
}
