import * as hdr from 'hdr-histogram-js';

import { RawClient } from '../lib/client';
import { clientId, type Scenario } from '../lib/scenario';

/**
 * p99 time from the revoke call (Signet: `DELETE /v1/tokens/{id}`; Aedes: its
 * control endpoint) to the client seeing its socket closed by the server (FIN or reset), one session at a
 * time. Mosquitto with a password file cannot revoke a live session: null.
 */
export const scenario: Scenario = {
  name: 'revoke_one',
  metrics: [{ metric: 'p99', unit: 'ms', better: 'lower' }],
  applies: () => true,
  run: async ({ mode, system }) => {
    const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
    try {
      for (let i = 0; i < mode.revokeSamples; i++) {
        const revocable = await system.revocable();
        if (revocable === null) return { p99: null };
        const client = await RawClient.connect({
          transport: 'tcp',
          port: system.tcpPort,
          clientId: clientId(`${system.name}-rv`),
          ...revocable.credential,
        });
        const closedAt = client.ended.then(() => performance.now());
        const t0 = performance.now();
        await revocable.revoke();
        const t1 = await Promise.race([closedAt, new Promise<number>((_, reject) => setTimeout(() => reject(new Error('not closed')), 10000))]);
        histogram.recordValue(Math.max(1, Math.round((t1 - t0) * 1000)));
      }
      return { p99: histogram.getValueAtPercentile(99) / 1000 };
    } finally {
      histogram.destroy();
    }
  },
};
