import { closeAll, connectMany, type RawClient } from '../lib/client';
import { clientId, sleep, type Scenario } from '../lib/scenario';
import type { Credential } from '../lib/systems';

/**
 * Opens `count` TCP sessions with one credential (distinct client ids), lets
 * them settle, runs `trigger` and returns the milliseconds from the trigger
 * until the server has closed every socket (FIN or reset seen). The clients
 * stay half-open when the server closes: only the server's close is timed, our
 * side is torn down after the measurement.
 */
export async function timeMassClose(port: number, credential: Credential, count: number, label: string, trigger: () => Promise<void>): Promise<number> {
  let clients: RawClient[] = [];
  try {
    clients = await connectMany(count, 200, () => ({ transport: 'tcp', port, clientId: clientId(label), ...credential, halfOpen: true }));
    await sleep(500);
    const allClosed = Promise.all(clients.map((c) => c.ended));
    const t0 = performance.now();
    await trigger();
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('sessions not closed in 30 s')), 30000));
    await Promise.race([allClosed, timeout]);
    return performance.now() - t0;
  } finally {
    await closeAll(clients);
    await sleep(200);
  }
}

/**
 * Milliseconds from the revoke call until every one of `massConnections`
 * sessions of one credential (one user, distinct client ids) has seen its
 * socket closed by the server (FIN or reset). Mosquitto with a password file cannot revoke: null.
 * `npm run bench:floor` measures what closing as many sockets costs a bare Node.js server.
 */
export const scenario: Scenario = {
  name: 'revoke_10k',
  metrics: [{ metric: 'all_closed', unit: 'ms', better: 'lower' }],
  applies: () => true,
  run: async ({ mode, system }) => {
    const revocable = await system.revocable();
    if (revocable === null) return { all_closed: null };
    const ms = await timeMassClose(system.tcpPort, revocable.credential, mode.massConnections, `${system.name}-rk`, () => revocable.revoke());
    return { all_closed: ms };
  },
};
