import type { Scenario } from '../lib/scenario';
import { runPubSub, systemTarget } from './pubsub';

/** Publisher → subscriber pairs, one topic each, QoS 0, MQTT over WebSocket: deliveries per CPU-second of the system. */
export const scenario: Scenario = {
  name: 'ws_p2p_qos0',
  metrics: [{ metric: 'deliveries', unit: 'msg/cpu-s', better: 'higher' }],
  applies: (system) => system.wsPort !== null,
  run: async (ctx) => ({ deliveries: await runPubSub(ctx.mode, { transport: 'ws', qos: 0, topology: 'pairs' }, systemTarget(ctx.system)) }),
};
