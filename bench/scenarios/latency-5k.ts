import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

import type { PacedSenderData, PacedSenderMessage, PacedSenderStart } from '../lib/paced-sender';
import { clientId, type Scenario } from '../lib/scenario';
import type { TimedReceiverData, TimedReceiverMessage, TimedReceiverStart } from '../lib/timed-receiver';

const RATE = 5000;
const PAYLOAD_BYTES = 16;
const TOPIC = 'bench/latency';
/** The target's bound (µs): BENCH_VERBOSE counts stalls, runs of deliveries later than this. */
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

/**
 * p99 publish→delivery latency at 5,000 msg/s offered, QoS 0, one publisher
 * and one subscriber. Each payload carries its sequence number; latency is
 * measured from the message's intended send time (t0 + seq / rate), not from
 * when the generator got round to sending it, so a stall anywhere counts
 * against the system (no coordinated omission). The first 20% is warm-up.
 *
 * Publisher and subscriber each run in their own thread (lib/paced-sender.ts
 * paces in a futex and spins only the last 100 µs before each send;
 * lib/timed-receiver.ts only waits in epoll and timestamps deliveries), so
 * the generator's own jitter (a spinning loop, 1 ms timers, the scavenges of
 * the runner's big heap) stays out of the figure, for the three systems alike.
 * How late the sends left (p99) is reported too, as `sends_late_p99`: the
 * generator's own share, below which no system's p99 can be. BENCH_VERBOSE
 * prints the percentiles and the stalls (runs of deliveries later than 0.6 ms).
 */
export const scenario: Scenario = {
  name: 'latency_5k',
  metrics: [
    { metric: 'p99', unit: 'ms', better: 'lower' },
    // The generator's own share, the same round: how late the sends left. The p99 cannot be below it.
    { metric: 'sends_late_p99', unit: 'ms', better: 'lower' },
  ],
  applies: () => true,
  run: async ({ mode, system }) => {
    const total = Math.round(RATE * mode.latencySeconds);
    const warmup = Math.floor(total / 5);
    const client = (user: number) => ({ transport: 'tcp' as const, port: system.tcpPort, clientId: clientId(`${system.name}-lat`), ...system.user(user) });
    const receiver = new Worker(join(__dirname, '../lib/timed-receiver.js'), {
      workerData: { client: client(0), topic: TOPIC, payloadBytes: PAYLOAD_BYTES } satisfies TimedReceiverData,
    });
    const fromReceiver = inbox<TimedReceiverMessage>(receiver);
    let sender: Worker | null = null;
    try {
      const subscribed = await fromReceiver();
      if (subscribed.type !== 'ready') throw new Error(`latency receiver: ${subscribed.type === 'error' ? subscribed.message : subscribed.type}`);
      sender = new Worker(join(__dirname, '../lib/paced-sender.js'), {
        workerData: { client: client(1), topic: TOPIC, payloadBytes: PAYLOAD_BYTES, rate: RATE, total } satisfies PacedSenderData,
      });
      const fromSender = inbox<PacedSenderMessage>(sender);
      const ready = await fromSender();
      if (ready.type !== 'ready') throw new Error(`latency sender: ${ready.type === 'error' ? ready.message : ready.type}`);

      // Message 0 is due 20 ms from now, so both threads have time to get the start message.
      const t0 = nowNs() + 20e6;
      receiver.postMessage({ t0, intervalNs: 1e9 / RATE, total, warmup, graceMs: 5000, lateUs: LATE_US, burstGap: BURST_GAP } satisfies TimedReceiverStart);
      sender.postMessage({ t0 } satisfies PacedSenderStart);
      const result = await fromReceiver();
      if (result.type !== 'done') throw new Error(`latency receiver: ${result.type === 'error' ? result.message : result.type}`);
      const sent = await Promise.race([fromSender(), new Promise<null>((r) => setTimeout(() => r(null), 2000))]);
      if (sent?.type === 'error') throw new Error(`latency sender: ${sent.message}`);
      const { summary } = result;
      const sendsLate = sent?.type === 'done' ? sent.lateP99Ns / 1e6 : null;
      if (summary.count === 0) return { p99: null, sends_late_p99: sendsLate };
      if (process.env['BENCH_VERBOSE']) {
        const ms = (us: number): string => (us / 1000).toFixed(3);
        const late = sent?.type === 'done' ? `; sends late p99 ${(sent.lateP99Ns / 1e6).toFixed(3)} max ${(sent.lateMaxNs / 1e6).toFixed(3)} ms` : '';
        const perSecond = (summary.stalls / ((total - warmup) / RATE)).toFixed(1);
        process.stderr.write(
          `  latency ${system.name}: n=${summary.count} p50 ${ms(summary.p50)} p90 ${ms(summary.p90)} p99 ${ms(summary.p99)} ` +
            `p99.9 ${ms(summary.p999)} max ${ms(summary.max)} ms; stalls > ${LATE_US / 1000} ms: ${summary.stalls} (${perSecond}/s)${late}\n`,
        );
      }
      return { p99: summary.p99 / 1000, sends_late_p99: sendsLate };
    } finally {
      await Promise.all([receiver.terminate(), sender?.terminate()]);
    }
  },
};
