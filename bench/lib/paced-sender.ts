import { parentPort, workerData } from 'node:worker_threads';

import { publishFrame, RawClient, type ClientOptions } from './client';

/**
 * A paced publisher in its own thread (worker_threads), for latency_5k.
 *
 * Why a thread: a single-threaded generator has to both pace sends and read
 * deliveries. Pacing by spinning on setImmediate allocated an Immediate per
 * loop turn (a generator scavenge every ~45 ms) and kept the receiving loop
 * busy; pacing with timers has 1 ms granularity. Here the sender sleeps in
 * Atomics.wait (a futex, sub-millisecond) until just before each intended send
 * time and spins only the last SPIN_NS, so sends leave at their intended times
 * and the receiving thread sleeps in epoll until a delivery arrives.
 *
 * Times are process.hrtime (one monotonic clock shared by all threads), in ns.
 * socket.write() is attempted synchronously by Node, so the bytes leave even
 * though this thread's event loop is blocked between sends; a write that had
 * to be queued makes the loop run once.
 */

export interface PacedSenderData {
  client: ClientOptions;
  topic: string;
  payloadBytes: number;
  /** Messages per second. */
  rate: number;
  total: number;
}

export type PacedSenderMessage =
  | { type: 'ready' }
  | { type: 'done'; sent: number; lateP99Ns: number; lateMaxNs: number }
  | { type: 'error'; message: string };

/** The parent sends { start: t0 } (hrtime ns of message 0's intended send time) once 'ready'. */
export interface PacedSenderStart {
  t0: number;
}

/** Spin (instead of sleeping) this close to a send: a futex wake-up overshoots by ~75 µs here. */
const SPIN_NS = 100_000;

const nowNs = (): number => Number(process.hrtime.bigint());

async function main(): Promise<void> {
  const data = workerData as PacedSenderData;
  const port = parentPort!;
  const pub = await RawClient.connect(data.client);
  const start = new Promise<number>((resolve) => port.once('message', (m: PacedSenderStart) => resolve(m.t0)));
  port.postMessage({ type: 'ready' } satisfies PacedSenderMessage);
  const t0 = await start;
  const frame = publishFrame(data.topic, Buffer.alloc(data.payloadBytes));
  const seqAt = frame.length - data.payloadBytes;
  const intervalNs = 1e9 / data.rate;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const late = new Float64Array(data.total);
  for (let seq = 0; seq < data.total && !pub.isClosed; seq++) {
    const due = t0 + seq * intervalNs;
    let now = nowNs();
    if (due - now > SPIN_NS) Atomics.wait(sleeper, 0, 0, (due - now - SPIN_NS) / 1e6);
    while ((now = nowNs()) < due);
    late[seq] = now - due;
    // One fresh frame per message: the socket may keep a reference until it is written.
    const out = Buffer.allocUnsafe(frame.length);
    frame.copy(out);
    out.writeUInt32BE(seq, seqAt);
    if (!pub.send(out)) await pub.drained();
    else if (pub.bufferedBytes() > 0) await new Promise<void>((r) => setImmediate(r));
  }
  late.sort();
  port.postMessage({
    type: 'done',
    sent: data.total,
    lateP99Ns: late[Math.floor(0.99 * (late.length - 1))],
    lateMaxNs: late[late.length - 1],
  } satisfies PacedSenderMessage);
  pub.destroy();
  await pub.closed;
}

main().catch((err: unknown) => parentPort!.postMessage({ type: 'error', message: String(err) } satisfies PacedSenderMessage));
