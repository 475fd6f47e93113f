import { describeLatency, measurePacedLatency } from '../lib/paced-latency';
import type { Scenario } from '../lib/scenario';

const RATE = 5000;

/**
 * p99 publish→delivery latency at 5,000 msg/s offered, QoS 0, one publisher and one subscriber,
 * counted from each message's intended send time (lib/paced-latency.ts). How late the sends left (p99)
 * is reported too, as `sends_late_p99`: the generator's own share, below which no system's p99 can
 * be. BENCH_VERBOSE prints the percentiles and the stalls (runs of deliveries later than 0.6 ms).
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
    const measured = await measurePacedLatency(system, RATE, mode.latencySeconds);
    if (process.env['BENCH_VERBOSE']) process.stderr.write(describeLatency(system.name, measured, mode.latencySeconds));
    return { p99: measured.summary.count === 0 ? null : measured.summary.p99 / 1000, sends_late_p99: measured.sendsLateP99 };
  },
};
