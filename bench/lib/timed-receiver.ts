import { parentPort, workerData } from 'node:worker_threads';

import * as hdr from 'hdr-histogram-js';

import { RawClient, type ClientOptions } from './client';

/**
 * The subscriber of latency_5k in its own thread (worker_threads), next to
 * paced-sender.ts: it timestamps each delivery against the message's intended
 * send time and keeps the histogram. On its own isolate its heap holds only
 * this client, so its scavenges are short and rare, whatever the scenarios
 * before left in the runner's heap; the runner's main thread stays idle.
 */

export interface TimedReceiverData {
  client: ClientOptions;
  topic: string;
  payloadBytes: number;
}

/** Sent by the parent once both threads are ready. Times are process.hrtime ns (one clock for all threads). */
export interface TimedReceiverStart {
  t0: number;
  intervalNs: number;
  /** Messages sent; the first `warmup` are not recorded. */
  total: number;
  warmup: number;
  /** Give up this long after the last intended send time. */
  graceMs: number;
  /** Deliveries later than this (µs) are late; late ones at most `burstGap` messages apart are one stall. */
  lateUs: number;
  burstGap: number;
}

export interface LatencySummary {
  count: number;
  /** Microseconds. */
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** Runs of late deliveries (see TimedReceiverStart.lateUs). */
  stalls: number;
}

export type TimedReceiverMessage = { type: 'ready' } | { type: 'done'; summary: LatencySummary } | { type: 'error'; message: string };

const nowNs = (): number => Number(process.hrtime.bigint());

async function main(): Promise<void> {
  const data = workerData as TimedReceiverData;
  const port = parentPort!;
  const sub = await RawClient.connect(data.client);
  await sub.subscribe(data.topic, 0);
  const start = new Promise<TimedReceiverStart>((resolve) => port.once('message', resolve));
  port.postMessage({ type: 'ready' } satisfies TimedReceiverMessage);
  const { t0, intervalNs, total, warmup, graceMs, lateUs, burstGap } = await start;

  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  let stalls = 0;
  let lastLateSeq = -Infinity;
  await new Promise<void>((resolve) => {
    let got = 0;
    const giveUp = setTimeout(resolve, (t0 + total * intervalNs - nowNs()) / 1e6 + graceMs);
    sub.onPublish = (frame) => {
      const seq = frame.readUInt32BE(frame.length - data.payloadBytes);
      if (seq >= warmup) {
        const us = Math.max(1, Math.round((nowNs() - (t0 + seq * intervalNs)) / 1000));
        histogram.recordValue(us);
        if (us > lateUs) {
          if (seq - lastLateSeq > burstGap) stalls++;
          lastLateSeq = seq;
        }
      }
      if (++got === total || seq === total - 1) {
        clearTimeout(giveUp);
        resolve();
      }
    };
  });
  const at = (p: number): number => histogram.getValueAtPercentile(p);
  const summary: LatencySummary = { count: histogram.totalCount, p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: at(100), stalls };
  histogram.destroy();
  port.postMessage({ type: 'done', summary } satisfies TimedReceiverMessage);
  sub.destroy();
  await sub.closed;
}

main().catch((err: unknown) => parentPort!.postMessage({ type: 'error', message: String(err) } satisfies TimedReceiverMessage));
