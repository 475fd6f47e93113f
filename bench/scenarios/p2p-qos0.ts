import type { Scenario } from '../lib/scenario';
import { runPubSub, systemTarget } from './pubsub';

/** Publisher → subscriber pairs, one topic each, QoS 0: deliveries per CPU-second of the system. */
export const scenario: Scenario = {
  name: 'p2p_qos0',
  metrics: [{ metric: 'deliveries', unit: 'msg/cpu-s', better: 'higher' }],
  applies: () => true,
  run: async (ctx) => ({ deliveries: await runPubSub(ctx.mode, { transport: 'tcp', qos: 0, topology: 'pairs' }, systemTarget(ctx.system)) }),
};
