import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

import * as hdr from 'hdr-histogram-js';

import { closeAll, RawClient } from '../lib/client';
import type { PacedSenderData, PacedSenderMessage, PacedSenderStart } from '../lib/paced-sender';
import { clientId, type Scenario } from '../lib/scenario';

const RATE = 5000;
const PAYLOAD_BYTES = 16;

const nowNs = (): number => Number(process.hrtime.bigint());

/** The target's bound: deliveries later than this are counted in stall bursts (BENCH_VERBOSE). */
const LATE_US = 600;
/** Late deliveries at most this many messages apart belong to one stall. */
const BURST_GAP = 5;

/**
 * p99 publish→delivery latency at 5,000 msg/s offered, QoS 0, one publisher
 * and one subscriber. Each payload carries its sequence number; latency is
 * measured from the message's intended send time (t0 + seq / rate), not from
 * when the generator got round to sending it, so a stall anywhere counts
 * against the system (no coordinated omission). The first 20% is warm-up.
 *
 * The publisher paces in its own thread (lib/paced-sender.ts: sleeps in a
 * futex, spins only the last 100 µs before each send), so this thread does
 * nothing but wait in epoll for deliveries and timestamp them: the generator's
 * own jitter (a spinning setImmediate loop and its GC, or 1 ms timers) stays
 * out of the figure, for the three systems alike.
 */
export const scenario: Scenario = {
  name: 'latency_5k',
  metrics: [{ metric: 'p99', unit: 'ms', better: 'lower' }],
  applies: () => true,
  run: async ({ mode, system }) => {
    const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
    const total = Math.round(RATE * mode.latencySeconds);
    const warmup = Math.floor(total / 5);
    const intervalNs = 1e9 / RATE;
    const sub = await RawClient.connect({ transport: 'tcp', port: system.tcpPort, clientId: clientId(`${system.name}-lat`), ...system.user(0) });
    const data: PacedSenderData = {
      client: { transport: 'tcp', port: system.tcpPort, clientId: clientId(`${system.name}-lat`), ...system.user(1) },
      topic: 'bench/latency',
      payloadBytes: PAYLOAD_BYTES,
      rate: RATE,
      total,
    };
    const sender = new Worker(join(__dirname, '../lib/paced-sender.js'), { workerData: data });
    try {
      await sub.subscribe('bench/latency', 0);
      const messages: PacedSenderMessage[] = [];
      let notify: (() => void) | null = null;
      sender.on('message', (m: PacedSenderMessage) => {
        messages.push(m);
        notify?.();
      });
      sender.on('error', (err) => {
        messages.push({ type: 'error', message: String(err) });
        notify?.();
      });
      const next = async (): Promise<PacedSenderMessage> => {
        while (messages.length === 0) await new Promise<void>((r) => (notify = r));
        notify = null;
        return messages.shift()!;
      };
      const ready = await next();
      if (ready.type !== 'ready') throw new Error(`latency sender: ${ready.type === 'error' ? ready.message : ready.type}`);

      let got = 0;
      // Stalls: runs of late deliveries. A stall of d ms delays about d × 5 messages, so a few stalls a
      // second decide the p99; BENCH_VERBOSE prints how many each system had in the same window.
      let stalls = 0;
      let lastLateSeq = -Infinity;
      let resolveDone!: () => void;
      const done = new Promise<void>((r) => (resolveDone = r));
      // Message 0 is due 20 ms from now, so the sender has time to get the start message.
      const t0 = nowNs() + 20e6;
      sub.onPublish = (frame) => {
        const seq = frame.readUInt32BE(frame.length - PAYLOAD_BYTES);
        if (seq >= warmup) {
          const us = Math.max(1, Math.round((nowNs() - (t0 + seq * intervalNs)) / 1000));
          histogram.recordValue(us);
          if (us > LATE_US) {
            if (seq - lastLateSeq > BURST_GAP) stalls++;
            lastLateSeq = seq;
          }
        }
        if (++got === total || seq === total - 1) resolveDone();
      };
      sender.postMessage({ t0 } satisfies PacedSenderStart);
      await Promise.race([done, new Promise((r) => setTimeout(r, mode.latencySeconds * 1000 + 5000))]);
      const finished = await Promise.race([next(), new Promise<null>((r) => setTimeout(() => r(null), 2000))]);
      if (finished?.type === 'error') throw new Error(`latency sender: ${finished.message}`);
      if (histogram.totalCount === 0) return { p99: null };
      if (process.env['BENCH_VERBOSE']) {
        const at = (p: number): string => (histogram.getValueAtPercentile(p) / 1000).toFixed(3);
        const late = finished?.type === 'done' ? `; sends late p99 ${(finished.lateP99Ns / 1e6).toFixed(3)} max ${(finished.lateMaxNs / 1e6).toFixed(3)} ms` : '';
        const perSecond = (stalls / ((total - warmup) / RATE)).toFixed(1);
        process.stderr.write(
          `  latency ${system.name}: n=${histogram.totalCount} p50 ${at(50)} p90 ${at(90)} p99 ${at(99)} p99.9 ${at(99.9)} max ${at(100)} ms; ` +
            `stalls > ${LATE_US / 1000} ms: ${stalls} (${perSecond}/s)${late}\n`,
        );
      }
      return { p99: histogram.getValueAtPercentile(99) / 1000 };
    } finally {
      histogram.destroy();
      await sender.terminate();
      await closeAll([sub]);
    }
  },
};
