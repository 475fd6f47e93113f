import { closeAll, messageIdOffset, publishFrame, RawClient, type Transport } from '../lib/client';
import { Flow, perCpuSecond, Pump, repeat } from '../lib/load';
import { clientId, sleep, type ScenarioContext } from '../lib/scenario';

export interface PubSubShape {
  transport: Transport;
  qos: 0 | 1;
  topology: 'pairs' | 'fanout' | 'fanin';
}

const PAYLOAD = Buffer.alloc(64, 0x61);

function connect(ctx: ScenarioContext, transport: Transport, userIndex: number): Promise<RawClient> {
  const { system } = ctx;
  const port = transport === 'ws' ? system.wsPort! : system.tcpPort;
  return RawClient.connect({ transport, port, clientId: clientId(`${system.name}-ps`), ...system.user(userIndex) });
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
export async function runPubSub(ctx: ScenarioContext, shape: PubSubShape): Promise<number | null> {
  const { mode, system } = ctx;
  const { transport, qos, topology } = shape;
  const clients: RawClient[] = [];
  const pumps: Pump[] = [];
  const flows: Flow[] = [];
  try {
    if (topology === 'pairs') {
      for (let p = 0; p < mode.pairs; p++) {
        const topic = `bench/p2p/${p}`;
        const sub = await connect(ctx, transport, 2 * p + 1);
        const pub = await connect(ctx, transport, 2 * p);
        clients.push(sub, pub);
        await sub.subscribe(topic, qos);
        const flow = new Flow(qos === 0 ? 500 : 200);
        flow.track(sub);
        flows.push(flow);
        pumps.push(new Pump(pub, batchMaker(topic, qos, 32), 32, flow));
      }
    } else if (topology === 'fanout') {
      const flow = new Flow(mode.fan * 100);
      flows.push(flow);
      for (let s = 0; s < mode.fan; s++) {
        const sub = await connect(ctx, transport, s + 1);
        clients.push(sub);
        await sub.subscribe('bench/fanout', qos);
        flow.track(sub);
      }
      const pub = await connect(ctx, transport, 0);
      clients.push(pub);
      pumps.push(new Pump(pub, batchMaker('bench/fanout', qos, 4), 4 * mode.fan, flow));
    } else {
      const flow = new Flow(2000);
      flows.push(flow);
      const sub = await connect(ctx, transport, 0);
      clients.push(sub);
      await sub.subscribe('bench/fanin/+', qos);
      flow.track(sub);
      for (let p = 0; p < mode.fan; p++) {
        const pub = await connect(ctx, transport, p + 1);
        clients.push(pub);
        pumps.push(new Pump(pub, batchMaker(`bench/fanin/${p}`, qos, 8), 8, flow));
      }
    }
    return await perCpuSecond(
      system.pid,
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
    );
  } finally {
    await closeAll(clients);
  }
}
