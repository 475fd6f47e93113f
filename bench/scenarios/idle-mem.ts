import { closeAll, connectMany, type RawClient, type Transport } from '../lib/client';
import { rssBytes } from '../lib/proc';
import { clientId, sleep, type ScenarioContext } from '../lib/scenario';
import type { SystemUnderTest } from '../lib/systems';

const SETTLE_MS = 1500;

/**
 * Bytes of resident memory per idle authenticated connection, on a freshly
 * started instance of the system (a process that already held thousands of
 * connections keeps that memory and would report ~0): the slope of its
 * VmRSS between 20% and 100% of `massConnections` connections (each
 * CONNECTed with a pool user, keepalive 600 s, then idle for 1.5 s). The
 * slope leaves out one-off costs (code warm-up, first-use caches). A garbage
 * collection cannot be forced from outside: for the Node.js systems the
 * figure includes whatever garbage the handshakes left that was not yet
 * collected, so it is an upper bound.
 */
export async function runIdleMemory(ctx: ScenarioContext, transport: Transport): Promise<number | null> {
  const system = await ctx.fresh();
  try {
    return await measure(ctx, system, transport);
  } finally {
    await system.stop();
  }
}

async function measure(ctx: ScenarioContext, system: SystemUnderTest, transport: Transport): Promise<number | null> {
  const { mode } = ctx;
  const port = transport === 'ws' ? system.wsPort! : system.tcpPort;
  const n = mode.massConnections;
  const first = Math.floor(n / 5);
  const options = (i: number) => ({ transport, port, clientId: clientId(`${system.name}-idle`), ...system.user(i) });
  const clients: RawClient[] = [];
  try {
    clients.push(...(await connectMany(first, 200, options)));
    await sleep(SETTLE_MS);
    const before = rssBytes(system.pid);
    clients.push(...(await connectMany(n - first, 200, (i) => options(first + i))));
    await sleep(SETTLE_MS);
    const after = rssBytes(system.pid);
    return Math.max(0, after - before) / (n - first);
  } finally {
    await closeAll(clients);
    await sleep(200);
  }
}
