import { closeAll, connectMany, type RawClient } from '../lib/client';
import { clientId, sleep, type Scenario } from '../lib/scenario';

/**
 * Milliseconds from the revoke call until every one of `massConnections`
 * sessions of one credential (one user, distinct client ids) has seen its
 * socket closed by the server (FIN or reset). Mosquitto with a password file cannot revoke: null.
 */
export const scenario: Scenario = {
  name: 'revoke_10k',
  metrics: [{ metric: 'all_closed', unit: 'ms', better: 'lower' }],
  applies: () => true,
  run: async ({ mode, system }) => {
    const revocable = await system.revocable();
    if (revocable === null) return { all_closed: null };
    let clients: RawClient[] = [];
    try {
      clients = await connectMany(mode.massConnections, 200, () => ({
        transport: 'tcp',
        port: system.tcpPort,
        clientId: clientId(`${system.name}-rk`),
        ...revocable.credential,
        // Only the server's FIN is timed; our side is torn down by closeAll after the measurement.
        halfOpen: true,
      }));
      await sleep(500);
      const allClosed = Promise.all(clients.map((c) => c.ended));
      const t0 = performance.now();
      await revocable.revoke();
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('sessions not closed in 30 s')), 30000));
      await Promise.race([allClosed, timeout]);
      return { all_closed: performance.now() - t0 };
    } finally {
      await closeAll(clients);
      await sleep(200);
    }
  },
};
