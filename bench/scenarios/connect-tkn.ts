import type { Scenario } from '../lib/scenario';
import { runConnects } from './connect';

/** CONNECT+CONNACK per CPU-second with per-user credentials: Signet `tkn_` tokens, a password file elsewhere. */
export const scenario: Scenario = {
  name: 'connect_tkn',
  metrics: [{ metric: 'connects', unit: 'conn/cpu-s', better: 'higher' }],
  applies: () => true,
  run: async (ctx) => ({ connects: await runConnects(ctx, (i) => ctx.system.user(i)) }),
};
