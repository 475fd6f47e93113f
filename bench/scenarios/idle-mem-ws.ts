import type { Scenario } from '../lib/scenario';
import { runIdleMemory } from './idle-mem';

/** Resident bytes per idle authenticated MQTT-over-WebSocket connection (10,000 connections). */
export const scenario: Scenario = {
  name: 'idle_mem_ws',
  metrics: [{ metric: 'rss_per_conn', unit: 'bytes', better: 'lower' }],
  applies: (system) => system.wsPort !== null,
  run: async (ctx) => ({ rss_per_conn: await runIdleMemory(ctx, 'ws') }),
};
