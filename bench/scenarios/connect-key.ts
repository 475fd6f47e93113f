import type { Scenario } from '../lib/scenario';
import { runConnects } from './connect';

/**
 * CONNECT+CONNACK per CPU-second with an API key as the password
 * (`<service>@<org_id>` / `sk_…`); on Mosquitto and Aedes, a password-file
 * user with a key-sized secret. Null for a system that refuses it.
 */
export const scenario: Scenario = {
  name: 'connect_key',
  metrics: [{ metric: 'connects', unit: 'conn/cpu-s', better: 'higher' }],
  applies: () => true,
  run: async (ctx) => ({ connects: await runConnects(ctx, () => ctx.system.serviceCredential()) }),
};
