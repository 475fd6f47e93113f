import { closeAll, messageIdOffset, publishFrame, RawClient, type Transport } from '../lib/client';
import { type CpuSplit, Flow, perCpuSecond, Pump, repeat } from '../lib/load';
import { clientId, sleep, type Mode } from '../lib/scenario';
import type { Credential, SystemUnderTest } from '../lib/systems';

export interface PubSubShape {
  transport: Transport;
  qos: 0 | 1;
  topology: 'pairs' | 'fanout' | 'fanin';
}

const PAYLOAD = Buffer.alloc(64, 0x61);

/**
 * Where the load goes: the processes whose CPU is counted, and the port each publisher and subscriber
 * connects to (one system, or a cluster's edges).
 */
export interface PubSubTarget {
  name: string;
  pids: readonly number[];
  user(i: number): Credential;
  port(role: 'publisher' | 'subscriber', index: number, transport: Transport): number;
  /**
   * Subscriptions reach the publisher's edge asynchronously (a cluster's routes): before measuring, publish
   * until every subscriber has heard its publisher.
   */
  awaitRoutes?: boolean;
  /** Told how the measured CPU divided between `pids`. */
  split?: CpuSplit;
}

/** The whole load on one system's process. */
export const systemTarget = (system: SystemUnderTest): PubSubTarget => ({
  name: system.name,
  pids: [system.pid],
  user: (i) => system.user(i),
  port: (_role, _index, transport) => (transport === 'ws' ? system.wsPort! : system.tcpPort),
});

function connect(target: PubSubTarget, transport: Transport, role: 'publisher' | 'subscriber', index: number, userIndex: number): Promise<RawClient> {
  const port = target.port(role, index, transport);
  return RawClient.connect({ transport, port, clientId: clientId(`${target.name}-ps`), ...target.user(userIndex) });
}

/** Publishes one QoS 0 probe on each topic every 50 ms until every subscriber got one (at most 10 s). */
async function awaitRoutes(probes: { pub: RawClient; topic: string; subs: RawClient[] }[]): Promise<void> {
  const deadline = performance.now() + 10_000;
  const heard = (s: RawClient, before: number) => s.received > before;
  const before = new Map(probes.flatMap((p) => p.subs.map((s) => [s, s.received] as const)));
  while (!probes.every((p) => p.subs.every((s) => heard(s, before.get(s)!)))) {
    if (performance.now() > deadline) throw new Error('subscriptions did not reach the publishers in 10 s');
    for (const p of probes) p.pub.send(publishFrame(p.topic, PAYLOAD));
    await sleep(50);
  }
  await sleep(200); // probes still in flight
}

/** A batch maker: `frames` PUBLISH frames to `topic`, QoS 1 ones with fresh packet ids. */
function batchMaker(topic: string, qos: 0 | 1, frames: number): () => Buffer {
  if (qos === 0) {
    const batch = repeat(publishFrame(topic, PAYLOAD), frames);
    return () => batch;
  }
  const frame = publishFrame(topic, PAYLOAD, 1, 1);
  const idAt = messageIdOffset(frame);
  let id = 0;
  return () => {
    const out = repeat(frame, frames);
    for (let i = 0; i < frames; i++) {
      id = (id % 65535) + 1;
      out.writeUInt16BE(id, i * frame.length + idAt);
    }
    return out;
  };
}

/**
 * Deliveries per CPU-second of the system: publishers pump PUBLISH frames
 * (64-byte payload) under end-to-end flow control, subscribers count what
 * arrives (and acknowledge QoS 1).
 */
export async function runPubSub(mode: Mode, shape: PubSubShape, target: PubSubTarget): Promise<number | null> {
  const { transport, qos, topology } = shape;
  const clients: RawClient[] = [];
  const pumps: Pump[] = [];
  const flows: Flow[] = [];
  const probes: { pub: RawClient; topic: string; subs: RawClient[] }[] = [];
  const tracked: { flow: Flow; sub: RawClient }[] = [];
  try {
    if (topology === 'pairs') {
      for (let p = 0; p < mode.pairs; p++) {
        const topic = `bench/p2p/${p}`;
        const sub = await connect(target, transport, 'subscriber', p, 2 * p + 1);
        const pub = await connect(target, transport, 'publisher', p, 2 * p);
        clients.push(sub, pub);
        await sub.subscribe(topic, qos);
        const flow = new Flow(qos === 0 ? 500 : 200);
        tracked.push({ flow, sub });
        flows.push(flow);
        probes.push({ pub, topic, subs: [sub] });
        pumps.push(new Pump(pub, batchMaker(topic, qos, 32), 32, flow));
      }
    } else if (topology === 'fanout') {
      const flow = new Flow(mode.fan * 100);
      flows.push(flow);
      const subs: RawClient[] = [];
      for (let s = 0; s < mode.fan; s++) {
        const sub = await connect(target, transport, 'subscriber', s, s + 1);
        clients.push(sub);
        subs.push(sub);
        await sub.subscribe('bench/fanout', qos);
        tracked.push({ flow, sub });
      }
      const pub = await connect(target, transport, 'publisher', 0, 0);
      clients.push(pub);
      probes.push({ pub, topic: 'bench/fanout', subs });
      pumps.push(new Pump(pub, batchMaker('bench/fanout', qos, 4), 4 * mode.fan, flow));
    } else {
      const flow = new Flow(2000);
      flows.push(flow);
      const sub = await connect(target, transport, 'subscriber', 0, 0);
      clients.push(sub);
      await sub.subscribe('bench/fanin/+', qos);
      tracked.push({ flow, sub });
      for (let p = 0; p < mode.fan; p++) {
        const pub = await connect(target, transport, 'publisher', p, p + 1);
        clients.push(pub);
        probes.push({ pub, topic: `bench/fanin/${p}`, subs: [sub] });
        pumps.push(new Pump(pub, batchMaker(`bench/fanin/${p}`, qos, 8), 8, flow));
      }
    }
    if (target.awaitRoutes) await awaitRoutes(probes);
    // Counted from here: the probes are not deliveries of the load.
    for (const { flow, sub } of tracked) flow.track(sub);
    return await perCpuSecond(
      target.pids,
      mode.durationMs,
      mode.warmupMs,
      () => pumps.forEach((p) => p.start()),
      async () => {
        await Promise.all(pumps.map((p) => p.stop()));
        // Let what is in flight arrive before closing: a broker is not measured on a mass abort.
        const deadline = performance.now() + 2000;
        while (flows.some((f) => f.outstanding() > 0) && performance.now() < deadline) await sleep(10);
      },
      () => flows.reduce((n, f) => n + f.received, 0),
      target.split,
    );
  } finally {
    await closeAll(clients);
  }
}
