import * as hdr from 'hdr-histogram-js';

import { closeAll, publishFrame, RawClient } from '../lib/client';
import { clientId, type Scenario } from '../lib/scenario';

const RATE = 5000;
const PAYLOAD_BYTES = 16;

/**
 * p99 publish→delivery latency at 5,000 msg/s offered, QoS 0, one publisher
 * and one subscriber. Each payload carries its sequence number; latency is
 * measured from the message's intended send time (start + seq / rate), not
 * from when the generator got round to sending it, so a stall anywhere counts
 * against the system (no coordinated omission). The first 20% is warm-up.
 */
export const scenario: Scenario = {
  name: 'latency_5k',
  metrics: [{ metric: 'p99', unit: 'ms', better: 'lower' }],
  applies: () => true,
  run: async ({ mode, system }) => {
    const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
    const total = Math.round(RATE * mode.latencySeconds);
    const warmup = Math.floor(total / 5);
    const intervalMs = 1000 / RATE;
    const open = (i: number): Promise<RawClient> =>
      RawClient.connect({ transport: 'tcp', port: system.tcpPort, clientId: clientId(`${system.name}-lat`), ...system.user(i) });
    const sub = await open(0);
    const pub = await open(1);
    try {
      await sub.subscribe('bench/latency', 0);
      const template = publishFrame('bench/latency', Buffer.alloc(PAYLOAD_BYTES));
      const seqAt = template.length - PAYLOAD_BYTES;
      let t0 = 0;
      let got = 0;
      let resolveDone!: () => void;
      const done = new Promise<void>((r) => (resolveDone = r));
      sub.onPublish = (frame) => {
        const seq = frame.readUInt32BE(frame.length - PAYLOAD_BYTES);
        if (seq >= warmup) histogram.recordValue(Math.max(1, Math.round((performance.now() - (t0 + seq * intervalMs)) * 1000)));
        if (++got === total || seq === total - 1) resolveDone();
      };
      t0 = performance.now();
      let next = 0;
      const tick = (): void => {
        const due = Math.min(total, Math.floor((performance.now() - t0) / intervalMs) + 1);
        if (due > next) {
          const out = Buffer.allocUnsafe(template.length * (due - next));
          for (let k = 0; next < due; k++, next++) {
            template.copy(out, k * template.length);
            out.writeUInt32BE(next, k * template.length + seqAt);
          }
          pub.send(out);
        }
        if (next < total) setImmediate(tick);
      };
      tick();
      await Promise.race([done, new Promise((r) => setTimeout(r, mode.latencySeconds * 1000 + 5000))]);
      if (histogram.totalCount === 0) return { p99: null };
      if (process.env['BENCH_VERBOSE']) {
        const at = (p: number): string => (histogram.getValueAtPercentile(p) / 1000).toFixed(3);
        process.stderr.write(`  latency ${system.name}: n=${histogram.totalCount} p50 ${at(50)} p90 ${at(90)} p99 ${at(99)} p99.9 ${at(99.9)} max ${at(100)} ms\n`);
      }
      return { p99: histogram.getValueAtPercentile(99) / 1000 };
    } finally {
      histogram.destroy();
      await closeAll([sub, pub]);
    }
  },
};
