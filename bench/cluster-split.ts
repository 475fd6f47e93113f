/**
 * Where a cross-edge delivery's CPU goes: the cluster scenarios' point-to-point load (8 pairs, QoS 0,
 * 64-byte payloads) on a token service and `--edges` edges on Redis, in three placements measured in
 * alternating order within each round:
 *  - local:     every client on edge 0 (what a delivery costs on one edge);
 *  - one-way:   every publisher on edge 0, every subscriber on edge 1 (each edge in one role);
 *  - spread:    pair i's publisher on edge i mod N, its subscriber on the next edge (cluster_p2p_qos0's
 *               placement: every edge publishes and receives).
 * Prints CPU microseconds per delivery of each edge and of Redis, their sum, and the sum over local's;
 * medians at the end. Every process is pinned to the systems' core, as in `npm run bench`.
 *
 *   npm run bench:cluster-split [-- --edges 3] [--rounds 4] [--seconds 2]   (--smoke: the benchmark's tiny counts, for tests)
 */
import { SignetCluster } from './lib/cluster';
import { pinCores, raiseFileLimit } from './lib/proc';
import { median } from './lib/report';
import { MODES } from './lib/scenario';
import { spreadNode } from './scenarios/cluster';
import { runPubSub, type PubSubTarget } from './scenarios/pubsub';

type Placement = 'local' | 'one-way' | 'spread';
const PLACEMENTS: readonly Placement[] = ['local', 'one-way', 'spread'];

const args = process.argv.slice(2);
const option = (flag: string, fallback: number, least: number): number => {
  const i = args.indexOf(flag);
  const v = i < 0 ? fallback : Number(args[i + 1]);
  if (!Number.isInteger(v) || v < least) throw new Error(`${flag} needs an integer of at least ${least}`);
  return v;
};
const log = (msg: string): void => void process.stderr.write(`${msg}\n`);

/** The edge each client of pair `index` connects to. */
function edgeOf(placement: Placement, role: 'publisher' | 'subscriber', index: number, edges: number): number {
  if (placement === 'local') return 0;
  if (placement === 'one-way') return role === 'publisher' ? 0 : 1;
  return spreadNode('pairs', role, index, edges);
}

async function main(): Promise<void> {
  const edges = option('--edges', 3, 2);
  const rounds = option('--rounds', 4, 1);
  const seconds = option('--seconds', 2, 1);
  raiseFileLimit(20000);
  const pinning = pinCores();
  const mode = args.includes('--smoke') ? MODES.smoke : { ...MODES.quick, durationMs: seconds * 1000 };
  const cluster = await SignetCluster.start({ edges, poolSize: mode.poolSize, cores: pinning.system });
  const totals = new Map<Placement, number[]>(PLACEMENTS.map((p) => [p, []]));
  log(`cluster-split: ${edges} edges, ${rounds} rounds of ${mode.durationMs / 1000} s; load generator on core ${pinning.load ?? 'any'}, edges and Redis on ${pinning.system ?? 'any'}`);
  try {
    for (let round = 0; round < rounds; round++) {
      // Rotated each round, so no placement always runs first (or after the same one).
      const order = PLACEMENTS.map((_, i) => PLACEMENTS[(i + round) % PLACEMENTS.length]);
      let local: number | null = null;
      for (const placement of order) {
        let each: number[] = [];
        const target: PubSubTarget = {
          name: `split-${placement}`,
          pids: [...cluster.edgePids, cluster.redisPid],
          user: (i) => cluster.users[i % cluster.users.length],
          port: (role, index) => cluster.edgePorts[edgeOf(placement, role, index, edges)],
          awaitRoutes: true,
          split: (cpu, counted) => (each = counted > 0 ? cpu.map((s) => (s * 1e6) / counted) : []),
        };
        await runPubSub(mode, { transport: 'tcp', qos: 0, topology: 'pairs' }, target);
        const total = each.reduce((sum, us) => sum + us, 0);
        totals.get(placement)!.push(total);
        if (placement === 'local') local = total;
        const parts = each.map((us, i) => `${i < edges ? `edge ${i}` : 'redis'} ${us.toFixed(3)}`).join(', ');
        log(`[${round + 1}/${rounds}] ${placement.padEnd(7)} ${total.toFixed(3)} µs per delivery (${parts})`);
      }
      if (local !== null) log(`[${round + 1}/${rounds}] over local: one-way ${(totals.get('one-way')!.at(-1)! / local).toFixed(2)}×, spread ${(totals.get('spread')!.at(-1)! / local).toFixed(2)}×`);
    }
  } finally {
    await cluster.stop();
  }
  const m = (p: Placement): number => median(totals.get(p)!) ?? Number.NaN;
  console.log(
    `median of ${rounds}: local ${m('local').toFixed(3)} µs, one-way ${m('one-way').toFixed(3)} µs (${(m('one-way') / m('local')).toFixed(2)}×), ` +
      `spread ${m('spread').toFixed(3)} µs (${(m('spread') / m('local')).toFixed(2)}×) CPU per delivery, ${edges} edges and Redis`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`cluster-split: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
