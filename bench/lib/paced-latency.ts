import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

import type { PacedSenderData, PacedSenderMessage, PacedSenderStart } from './paced-sender';
import { clientId } from './scenario';
import type { SystemUnderTest } from './systems';
import type { LatencySummary, TimedReceiverData, TimedReceiverMessage, TimedReceiverStart } from './timed-receiver';

const PAYLOAD_BYTES = 16;
const TOPIC = 'bench/latency';
/** BENCH_VERBOSE counts stalls, runs of deliveries later than this (µs). */
const LATE_US = 600;
/** Late deliveries at most this many messages apart belong to one stall. */
const BURST_GAP = 5;

const nowNs = (): number => Number(process.hrtime.bigint());

/** A worker's messages, one at a time; its crash arrives as an error message. */
function inbox<M extends { type: string }>(worker: Worker): () => Promise<M | { type: 'error'; message: string }> {
  const queue: (M | { type: 'error'; message: string })[] = [];
  let notify: (() => void) | null = null;
  const push = (m: M | { type: 'error'; message: string }): void => {
    queue.push(m);
    notify?.();
  };
  worker.on('message', push);
  worker.on('error', (err) => push({ type: 'error', message: String(err) }));
  return async () => {
    while (queue.length === 0) await new Promise<void>((r) => (notify = r));
    notify = null;
    return queue.shift()!;
  };
}

export interface PacedLatency {
  summary: LatencySummary;
  /** How late the sends left (ms): the generator's own share, below which no p99 can be. Null if the sender did not report. */
  sendsLateP99: number | null;
  sendsLateMax: number | null;
}

/**
 * Publish→delivery latency at `rate` msg/s offered for `seconds`, QoS 0, one publisher and one
 * subscriber (pool users 1 and 0). Each payload carries its sequence number; latency is measured from
 * the message's intended send time (t0 + seq / rate), not from when the generator got round to sending
 * it, so a stall anywhere counts against the system (no coordinated omission). The first 20% is warm-up.
 *
 * Publisher and subscriber each run in their own thread (paced-sender.ts paces in a futex and spins
 * only the last 100 µs before each send; timed-receiver.ts only waits in epoll and timestamps
 * deliveries), so the generator's own jitter (a spinning loop, 1 ms timers, the scavenges of the
 * runner's big heap) stays out of the figure, for every system alike. `started` is called when the
 * first message is due.
 */
export async function measurePacedLatency(system: SystemUnderTest, rate: number, seconds: number, started?: () => void): Promise<PacedLatency> {
  const total = Math.round(rate * seconds);
  const warmup = Math.floor(total / 5);
  const client = (user: number) => ({ transport: 'tcp' as const, port: system.tcpPort, clientId: clientId(`${system.name}-lat`), ...system.user(user) });
  const receiver = new Worker(join(__dirname, 'timed-receiver.js'), {
    workerData: { client: client(0), topic: TOPIC, payloadBytes: PAYLOAD_BYTES } satisfies TimedReceiverData,
  });
  const fromReceiver = inbox<TimedReceiverMessage>(receiver);
  let sender: Worker | null = null;
  try {
    const subscribed = await fromReceiver();
    if (subscribed.type !== 'ready') throw new Error(`latency receiver: ${subscribed.type === 'error' ? subscribed.message : subscribed.type}`);
    sender = new Worker(join(__dirname, 'paced-sender.js'), {
      workerData: { client: client(1), topic: TOPIC, payloadBytes: PAYLOAD_BYTES, rate, total } satisfies PacedSenderData,
    });
    const fromSender = inbox<PacedSenderMessage>(sender);
    const ready = await fromSender();
    if (ready.type !== 'ready') throw new Error(`latency sender: ${ready.type === 'error' ? ready.message : ready.type}`);

    // Message 0 is due 20 ms from now, so both threads have time to get the start message.
    const t0 = nowNs() + 20e6;
    receiver.postMessage({ t0, intervalNs: 1e9 / rate, total, warmup, graceMs: 5000, lateUs: LATE_US, burstGap: BURST_GAP } satisfies TimedReceiverStart);
    sender.postMessage({ t0 } satisfies PacedSenderStart);
    started?.();
    const result = await fromReceiver();
    if (result.type !== 'done') throw new Error(`latency receiver: ${result.type === 'error' ? result.message : result.type}`);
    const sent = await Promise.race([fromSender(), new Promise<null>((r) => setTimeout(() => r(null), 2000))]);
    if (sent?.type === 'error') throw new Error(`latency sender: ${sent.message}`);
    const done = sent?.type === 'done' ? sent : null;
    return { summary: result.summary, sendsLateP99: done ? done.lateP99Ns / 1e6 : null, sendsLateMax: done ? done.lateMaxNs / 1e6 : null };
  } finally {
    await Promise.all([receiver.terminate(), sender?.terminate()]);
  }
}

/** BENCH_VERBOSE: the percentiles and the stalls (runs of deliveries later than 0.6 ms) of one measurement. */
export function describeLatency(name: string, { summary, sendsLateP99, sendsLateMax }: PacedLatency, seconds: number): string {
  const ms = (us: number): string => (us / 1000).toFixed(3);
  const late = sendsLateP99 === null ? '' : `; sends late p99 ${sendsLateP99.toFixed(3)} max ${(sendsLateMax ?? 0).toFixed(3)} ms`;
  const perSecond = (summary.stalls / (seconds * 0.8)).toFixed(1);
  return (
    `  latency ${name}: n=${summary.count} p50 ${ms(summary.p50)} p90 ${ms(summary.p90)} p99 ${ms(summary.p99)} ` +
    `p99.9 ${ms(summary.p999)} max ${ms(summary.max)} ms; stalls > ${LATE_US / 1000} ms: ${summary.stalls} (${perSecond}/s)${late}\n`
  );
}
