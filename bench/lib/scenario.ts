import type { SystemUnderTest } from './systems';

export type ModeName = 'full' | 'quick' | 'smoke';

/** How big and how long each scenario runs. */
export interface Mode {
  name: ModeName;
  rounds: number;
  /** Measured window of the throughput scenarios. */
  durationMs: number;
  /** Load before the measured window starts. */
  warmupMs: number;
  /** Users provisioned on each system. */
  poolSize: number;
  /** Subscribers of fanout_qos0 and publishers of fanin_qos0. */
  fan: number;
  /** Publisher/subscriber pairs of p2p_qos0, p2p_qos1, ws_p2p_qos0. */
  pairs: number;
  /** Concurrent CONNECT loops of connect_tkn/connect_key. */
  connectConcurrency: number;
  /** Connections of idle_mem_tcp/idle_mem_ws and sessions of revoke_10k. */
  massConnections: number;
  revokeSamples: number;
  latencySeconds: number;
  /** Refresh tokens presented in refresh_storm. */
  stormTokens: number;
  /** The paced load of gc_1core (the target is stated over 60 s). */
  gcSeconds: number;
}

export const MODES: Record<ModeName, Mode> = {
  full: {
    name: 'full',
    rounds: 5,
    durationMs: 3000,
    warmupMs: 500,
    poolSize: 101,
    fan: 100,
    pairs: 8,
    connectConcurrency: 32,
    massConnections: 10000,
    revokeSamples: 500,
    latencySeconds: 5,
    stormTokens: 10000,
    gcSeconds: 60,
  },
  quick: {
    name: 'quick',
    rounds: 3,
    durationMs: 1000,
    warmupMs: 300,
    poolSize: 101,
    fan: 100,
    pairs: 8,
    connectConcurrency: 32,
    massConnections: 10000,
    // Over 100 samples a p99 is the second-worst one: a single stall of the machine decides it. 200 leave
    // out the two worst (≈ 2 s per system and round).
    revokeSamples: 200,
    latencySeconds: 2,
    stormTokens: 2000,
    gcSeconds: 10,
  },
  smoke: {
    name: 'smoke',
    rounds: 1,
    durationMs: 150,
    warmupMs: 50,
    poolSize: 11,
    fan: 10,
    pairs: 2,
    connectConcurrency: 4,
    massConnections: 50,
    revokeSamples: 2,
    latencySeconds: 0.3,
    stormTokens: 40,
    gcSeconds: 0.3,
  },
};

export interface ScenarioContext {
  mode: Mode;
  system: SystemUnderTest;
  round: number;
  /** Starts a new instance of the same system (the caller stops it), for measurements a used process would skew. */
  fresh(options?: { nodeArgs?: string[] }): Promise<SystemUnderTest>;
  /** `taskset -c` core list for processes a scenario starts itself (the systems' cores), or null. */
  cores: string | null;
}

export interface MetricSpec {
  metric: string;
  unit: string;
  /** For the ratio columns: whether Signet wants the larger or the smaller figure. */
  better: 'higher' | 'lower';
}

/** One benchmark scenario; a system it does not apply to gets null. */
export interface Scenario {
  name: string;
  metrics: MetricSpec[];
  applies(system: SystemUnderTest): boolean;
  /** Figures by metric name; null when the system has none (e.g. a credential kind it does not accept). */
  run(ctx: ScenarioContext): Promise<Record<string, number | null>>;
  /** Stops what the scenario started for itself and kept across rounds (called once, when the run ends). */
  dispose?(): Promise<void>;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A unique client id per scenario run. */
let clientSeq = 0;
export const clientId = (prefix: string): string => `${prefix}-${process.pid}-${++clientSeq}`;
