import type { Scenario } from '../lib/scenario';
import { runIdleMemory } from './idle-mem';

/** Resident bytes per idle authenticated MQTT connection over TCP (10,000 connections). */
export const scenario: Scenario = {
  name: 'idle_mem_tcp',
  metrics: [{ metric: 'rss_per_conn', unit: 'bytes', better: 'lower' }],
  applies: () => true,
  run: async (ctx) => ({ rss_per_conn: await runIdleMemory(ctx, 'tcp') }),
};
