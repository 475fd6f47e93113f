import { AedesCluster, SignetCluster } from '../lib/cluster';
import type { MetricSpec, Scenario, ScenarioContext } from '../lib/scenario';
import type { Credential } from '../lib/systems';
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
  // The same without Redis's CPU: what the nodes themselves spend more per delivery when it crosses.
  { metric: 'nodes_cost_growth', unit: '×', better: 'lower' },
];

/** Aedes instances of the Aedes-on-Redis column (the "two instances"). */
export const AEDES_INSTANCES = 2;

// One cluster per system for every cluster scenario and round: starting one takes seconds; dispose() stops them.
let signetCluster: Promise<SignetCluster> | null = null;
let aedesCluster: Promise<AedesCluster> | null = null;
/** The clusters that have run the load once, unmeasured (see run). */
const warmed = new Set<string>();

/** The cluster's MQTT ports, the processes whose CPU counts (its Redis last), and its users. */
interface ClusterUnderTest {
  readonly name: string;
  readonly ports: readonly number[];
  readonly pids: readonly number[];
  readonly users: readonly Credential[];
}

/** CPU-seconds per delivery of the nodes alone (every measured process but Redis, the last). */
type NodesCost = { perDelivery: number | null };

/**
 * The node a client of the spread load connects to: publisher `index` on node `index mod nodes`, its
 * subscribers never on the publisher's node (pairs one node along, fan-out over the others).
 */
export function spreadNode(topology: PubSubShape['topology'], role: 'publisher' | 'subscriber', index: number, nodes: number): number {
  if (role === 'publisher') return index % nodes;
  return topology === 'pairs' ? (index + 1) % nodes : 1 + (index % (nodes - 1));
}

function target(c: ClusterUnderTest, shape: PubSubShape, spread: boolean, nodes: NodesCost): PubSubTarget {
  const n = c.ports.length;
  return {
    name: c.name,
    pids: c.pids,
    split: (cpuEach, counted) => {
      const cpu = cpuEach.slice(0, -1).reduce((sum, s) => sum + s, 0);
      nodes.perDelivery = counted > 0 ? cpu / counted : null;
    },
    user: (i) => c.users[i % c.users.length],
    port: (role, index) => c.ports[spread ? spreadNode(shape.topology, role, index, n) : 0],
    awaitRoutes: true,
  };
}

// Per CPU-second of every node and of Redis together (Signet's token service has no part in a delivery).
const signetNodes = (c: SignetCluster): ClusterUnderTest => ({ name: 'signet-cluster', ports: c.edgePorts, pids: [...c.edgePids, c.redisPid], users: c.users });
const aedesNodes = (c: AedesCluster): ClusterUnderTest => ({ name: 'aedes-cluster', ports: c.ports, pids: [...c.pids, c.redisPid], users: c.users });

/**
 * A pub/sub shape on Signet as a token service and {@link CLUSTER_EDGES} standalone edges on Redis, and on
 * {@link AEDES_INSTANCES} Aedes instances sharing Redis: the load spread so that publisher and subscribers
 * are on different nodes, next to the same load on one node of the same cluster.
 */
export function clusterScenario(name: string, shape: Omit<PubSubShape, 'transport'>): Scenario {
  const full: PubSubShape = { transport: 'tcp', ...shape };
  return {
    name,
    metrics: CLUSTER_METRICS,
    applies: (system) => system.name === 'signet' || system.name === 'aedes',
    run: async (ctx: ScenarioContext) => {
      let nodes: ClusterUnderTest;
      if (ctx.system.name === 'aedes') {
        aedesCluster ??= AedesCluster.start({ instances: AEDES_INSTANCES, poolSize: ctx.mode.poolSize, cores: ctx.cores });
        nodes = aedesNodes(await aedesCluster);
      } else {
        signetCluster ??= SignetCluster.start({ edges: CLUSTER_EDGES, poolSize: ctx.mode.poolSize, cores: ctx.cores });
        nodes = signetNodes(await signetCluster);
      }
      // A new cluster's nodes have run nothing: without one unmeasured pass of each load the first round
      // measured their JIT warming up (often the run's highest cost_growth).
      if (!warmed.has(nodes.name)) {
        warmed.add(nodes.name);
        for (const spread of [true, false]) await runPubSub(ctx.mode, full, target(nodes, full, spread, { perDelivery: null }));
      }
      // Alternate which load goes first, round by round.
      const order = ctx.round % 2 === 1 ? [false, true] : [true, false];
      const figures = new Map<boolean, number | null>();
      const nodesCost = new Map<boolean, NodesCost>([
        [true, { perDelivery: null }],
        [false, { perDelivery: null }],
      ]);
      for (const spread of order) figures.set(spread, await runPubSub(ctx.mode, full, target(nodes, full, spread, nodesCost.get(spread)!)));
      const [spread, one] = [figures.get(true) ?? null, figures.get(false) ?? null];
      const [nodesSpread, nodesOne] = [nodesCost.get(true)!.perDelivery, nodesCost.get(false)!.perDelivery];
      return {
        deliveries: spread,
        deliveries_one_edge: one,
        cost_growth: spread && one ? one / spread : null,
        nodes_cost_growth: nodesSpread && nodesOne ? nodesSpread / nodesOne : null,
      };
    },
    dispose: async () => {
      const [signet, aedes] = [signetCluster, aedesCluster];
      signetCluster = aedesCluster = null;
      warmed.clear();
      await Promise.all([signet, aedes].map(async (started) => (await started?.catch(() => null))?.stop()));
    },
  };
}
