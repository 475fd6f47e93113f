import { GcTrace, longestHold } from '../lib/gc-trace';
import { describeLatency, measurePacedLatency } from '../lib/paced-latency';
import type { Scenario } from '../lib/scenario';

const RATE = 5000;
/** The target's bound on one collection's hold of the main thread. */
const PAUSE_BOUND_MS = 5;

/**
 * GC pauses of a system limited to one core (as a pod with a 1-CPU limit is: the bench pins every
 * system to its own core) under the paced 5,000 msg/s of latency_5k, for `gcSeconds` (60 s in full
 * mode). A fresh instance runs with `--trace-gc`; after the warm-up (the first 20% of the messages), each
 * collection's hold of the main thread is read from its trace (the final pause, or a full GC's
 * biggest incremental-marking step, whichever is longer): the longest (`gc_max_ms`) and how many
 * exceed 5 ms (`gc_over_5ms`), on the main thread (a worker's, such as the embedded database's, does
 * not stop it; BENCH_VERBOSE prints them apart). The same run's p99 and the generator's own lateness stand beside
 * them, for Mosquitto (no GC; its p99 is the comparison) as for the Node systems.
 */
export const scenario: Scenario = {
  name: 'gc_1core',
  metrics: [
    { metric: 'gc_max_ms', unit: 'ms', better: 'lower' },
    { metric: 'gc_over_5ms', unit: 'count', better: 'lower' },
    { metric: 'p99', unit: 'ms', better: 'lower' },
    { metric: 'sends_late_p99', unit: 'ms', better: 'lower' },
  ],
  applies: () => true,
  run: async ({ mode, system, fresh }) => {
    const node = system.name !== 'mosquitto';
    const traced = await fresh(node ? { nodeArgs: ['--trace-gc'] } : {});
    const trace = new GcTrace();
    const unwatch = traced.watchOutput((text) => trace.feed(text));
    try {
      // Collections are counted after the warm-up (the first 20%, as the latency's), not the start-up's tail.
      let warm: NodeJS.Timeout | undefined;
      const measured = await measurePacedLatency(traced, RATE, mode.gcSeconds, () => (warm = setTimeout(() => trace.reset(), 20 + mode.gcSeconds * 200)));
      clearTimeout(warm);
      const gc = trace.summary(PAUSE_BOUND_MS);
      if (process.env['BENCH_VERBOSE']) {
        process.stderr.write(describeLatency(system.name, measured, mode.gcSeconds));
        const workers = trace.summary(PAUSE_BOUND_MS, trace.workerEvents);
        const others = workers.count === 0 ? '' : `; worker threads: ${workers.count}, longest ${workers.maxMs.toFixed(2)} ms`;
        const long = trace.events.filter((e) => longestHold(e) > PAUSE_BOUND_MS).map((e) => `${e.kind} ${e.pauseMs} ms (step ${e.biggestStepMs} ms)`);
        const which = long.length === 0 ? '' : ` [${long.join(', ')}]`;
        if (node) process.stderr.write(`  gc ${system.name}: main thread ${gc.count} collections, longest hold ${gc.maxMs.toFixed(2)} ms, ${gc.over} over ${PAUSE_BOUND_MS} ms${which}${others}\n`);
      }
      return {
        gc_max_ms: node ? gc.maxMs : null,
        gc_over_5ms: node ? gc.over : null,
        p99: measured.summary.count === 0 ? null : measured.summary.p99 / 1000,
        sends_late_p99: measured.sendsLateP99,
      };
    } finally {
      unwatch();
      await traced.stop();
    }
  },
};
