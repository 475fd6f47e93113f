import { measureCredentialCalls, type Call } from '../lib/http-load';
import type { Mode, Scenario } from '../lib/scenario';
import { SignetSystem, type SystemUnderTest } from '../lib/systems';

/** Requests in flight in the closed loop (over keep-alive connections). */
const CONCURRENCY = 16;
/** The open loop's cap on requests in flight; also the number of refresh chains token_refresh keeps. */
const MAX_IN_FLIGHT = 64;

/** Offered rate of the p99 measurement: the targets, 500/s on PostgreSQL, 400/s on the embedded database. */
export const offeredRate = (mode: Mode, signet: SignetSystem): number => (mode.name === 'smoke' ? 50 : signet.database === null ? 400 : 500);

export const CREDENTIAL_METRICS = [
  { metric: 'issued', unit: 'per CPU-s', better: 'higher' as const },
  { metric: 'p99', unit: 'ms', better: 'lower' as const },
  { metric: 'pg_cpu', unit: '× Signet CPU', better: 'lower' as const },
];

/**
 * A credential endpoint under load: `prepare` sets up what the calls need
 * (outside the measured windows) and returns the call, which must reject on
 * anything but the expected answer.
 */
export function credentialScenario(name: string, prepare: (signet: SignetSystem, mode: Mode) => Promise<Call>): Scenario {
  return {
    name,
    metrics: CREDENTIAL_METRICS,
    applies: (system: SystemUnderTest) => system instanceof SignetSystem,
    run: async ({ mode, system }) => {
      const signet = system as SignetSystem;
      const call = await prepare(signet, mode);
      const figures = await measureCredentialCalls(
        {
          pid: signet.pid,
          database: signet.database,
          concurrency: CONCURRENCY,
          warmupMs: mode.warmupMs,
          durationMs: mode.durationMs,
          rate: offeredRate(mode, signet),
          maxInFlight: MAX_IN_FLIGHT,
        },
        call,
      );
      return { ...figures };
    },
  };
}

export { MAX_IN_FLIGHT };
