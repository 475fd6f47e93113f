import { ConnackError, RawClient } from '../lib/client';
import { perCpuSecond } from '../lib/load';
import { clientId, type Mode } from '../lib/scenario';
import type { Credential } from '../lib/systems';

/** What runConnects needs of a system: a TCP port and the process whose CPU time counts. */
export interface ConnectTarget {
  readonly name: string;
  readonly pid: number;
  readonly tcpPort: number;
}

/**
 * CONNECT + CONNACK per CPU-second of the system: `connectConcurrency` loops
 * each connect, wait for CONNACK, DISCONNECT and wait for the close, over TCP.
 * Null when the system refuses the credential kind (probed first).
 */
export async function runConnects(ctx: { mode: Mode; system: ConnectTarget }, credential: (i: number) => Credential): Promise<number | null> {
  const { mode, system } = ctx;
  const open = (i: number): Promise<RawClient> =>
    RawClient.connect({ transport: 'tcp', port: system.tcpPort, clientId: clientId(`${system.name}-c`), ...credential(i) });
  try {
    const probe = await open(0);
    probe.disconnect();
    await probe.closed;
  } catch (err) {
    if (err instanceof ConnackError) return null;
    throw err;
  }
  let accepted = 0;
  let running = false;
  let loops: Promise<void>[] = [];
  const loop = async (k: number): Promise<void> => {
    for (let i = k; running; i += mode.connectConcurrency) {
      const client = await open(i);
      accepted++;
      client.disconnect();
      await client.closed;
    }
  };
  return perCpuSecond(
    system.pid,
    mode.durationMs,
    mode.warmupMs,
    () => {
      running = true;
      loops = Array.from({ length: mode.connectConcurrency }, (_, k) => loop(k));
    },
    async () => {
      running = false;
      await Promise.all(loops);
    },
    () => accepted,
  );
}
