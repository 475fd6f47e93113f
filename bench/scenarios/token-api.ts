import * as hdr from 'hdr-histogram-js';

import { SignetSystem, type SystemUnderTest } from '../lib/systems';
import type { Scenario } from '../lib/scenario';

const CONCURRENCY = 16;

/**
 * Signet's token API: `POST /v1/tokens` requests per second (wall clock, 16
 * requests in flight over keep-alive connections) and their p99. The API key
 * verdict is cached by the key service (bcrypt once per key per minute), so
 * this measures issuing: validation, RS256 signing and the database insert.
 */
export const scenario: Scenario = {
  name: 'token_api',
  metrics: [
    { metric: 'rps', unit: 'req/s', better: 'higher' },
    { metric: 'p99', unit: 'ms', better: 'lower' },
  ],
  applies: (system: SystemUnderTest) => system instanceof SignetSystem,
  run: async ({ mode, system }) => {
    const signet = system as SignetSystem;
    const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
    let done = 0;
    let running = true;
    let n = 0;
    let failure: unknown = null;
    const loop = async (): Promise<void> => {
      while (running && failure === null) {
        const t = performance.now();
        try {
          await signet.issue(`bench_api_${n++ % 1000}`);
        } catch (err) {
          failure = err;
          return;
        }
        histogram.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)));
        done++;
      }
    };
    try {
      // Warm-up, then a measured window.
      const loops = Array.from({ length: CONCURRENCY }, loop);
      await new Promise((r) => setTimeout(r, mode.warmupMs));
      histogram.reset();
      const d0 = done;
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, mode.durationMs));
      const rps = ((done - d0) * 1000) / (performance.now() - t0);
      const p99 = histogram.getValueAtPercentile(99) / 1000;
      running = false;
      await Promise.all(loops);
      if (failure !== null) throw failure;
      return { rps, p99 };
    } finally {
      histogram.destroy();
    }
  },
};
