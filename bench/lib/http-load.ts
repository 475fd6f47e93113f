import * as hdr from 'hdr-histogram-js';
import { Client } from 'pg';

import { cpuSeconds } from './proc';
import { sleep } from './scenario';

/**
 * Load for the credential endpoints (token_issue, token_refresh,
 * exchange_*): a closed loop for issuances per CPU-second of the Signet
 * process, then an open loop at a fixed offered rate for the p99 (latency
 * counted from each request's intended send time, so a stall is not hidden by
 * requests that were never sent).
 */

/** One request; resolves when it was answered as expected, rejects otherwise. */
export type Call = (i: number) => Promise<void>;

export interface CredentialFigures {
  /** Answered requests per CPU-second of the Signet process (closed loop). */
  issued: number | null;
  /** 99th percentile in ms at the offered rate (open loop). */
  p99: number | null;
  /** PostgreSQL backends' CPU-seconds per CPU-second of Signet in the closed loop; null on the embedded database. */
  pg_cpu: number | null;
}

/** CPU-seconds used so far by the PostgreSQL backends serving `database` (read from /proc; same machine only). */
export class PostgresCpu {
  private pids: number[] = [];
  private start = 0;

  constructor(private readonly database: string | null) {}

  private total(): number {
    let sum = 0;
    for (const pid of this.pids) {
      try {
        sum += cpuSeconds(pid);
      } catch {
        // A backend that ended since: its time is lost, not wrong.
      }
    }
    return sum;
  }

  /** Finds the backends now connected (Signet's pool is warm by then) and starts counting. */
  async begin(): Promise<void> {
    if (this.database === null) return;
    const client = new Client({ connectionString: process.env['SIGNET_TEST_DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test' });
    await client.connect();
    try {
      const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [this.database]);
      this.pids = rows.map((r) => r.pid);
    } finally {
      await client.end();
    }
    this.start = this.total();
  }

  /** CPU-seconds since begin(); null when not on PostgreSQL. */
  read(): number | null {
    return this.database === null ? null : this.total() - this.start;
  }
}

export interface LoadPlan {
  pid: number;
  database: string | null;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Offered requests per second of the open loop. */
  rate: number;
  /** Most requests in flight in the open loop (beyond it, requests wait and their wait counts). */
  maxInFlight: number;
}

/** The closed loop, then the open loop; the first failed call fails the scenario (a benchmark of errors is no benchmark). */
export async function measureCredentialCalls(plan: LoadPlan, call: Call): Promise<CredentialFigures> {
  let n = 0;
  let done = 0;
  let failure: unknown = null;
  let running = true;
  const loop = async (): Promise<void> => {
    while (running && failure === null) {
      try {
        await call(n++);
        done++;
      } catch (err) {
        failure ??= err;
      }
    }
  };
  const loops = Array.from({ length: plan.concurrency }, loop);
  const pg = new PostgresCpu(plan.database);
  let issued: number | null = null;
  let pgCpu: number | null = null;
  try {
    await sleep(plan.warmupMs);
    await pg.begin();
    const cpu0 = cpuSeconds(plan.pid);
    const d0 = done;
    await sleep(plan.durationMs);
    const cpu = cpuSeconds(plan.pid) - cpu0;
    const pgUsed = pg.read();
    issued = cpu > 0 ? (done - d0) / cpu : null;
    pgCpu = pgUsed === null || cpu <= 0 ? null : pgUsed / cpu;
  } finally {
    running = false;
    await Promise.all(loops);
  }
  if (failure !== null) throw failure;
  const p99 = await openLoopP99(plan, (i) => call(n + i));
  return { issued, p99, pg_cpu: pgCpu };
}

/** Sends at `plan.rate` for warm-up + duration; the p99 of the measured part, in ms. */
async function openLoopP99(plan: LoadPlan, call: Call): Promise<number> {
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  const total = Math.max(1, Math.round((plan.rate * (plan.warmupMs + plan.durationMs)) / 1000));
  const measuredFrom = Math.floor((plan.rate * plan.warmupMs) / 1000);
  const intervalMs = 1000 / plan.rate;
  let failure: unknown = null;
  let inFlight = 0;
  let wake: (() => void) | null = null;
  const pending = new Set<Promise<void>>();
  const t0 = performance.now();
  try {
    for (let i = 0; i < total && failure === null; i++) {
      const due = t0 + i * intervalMs;
      const ahead = due - performance.now();
      if (ahead > 1) await sleep(ahead);
      while (inFlight >= plan.maxInFlight) await new Promise<void>((r) => (wake = r));
      inFlight++;
      const p = call(i).then(
        () => {
          if (i >= measuredFrom) histogram.recordValue(Math.max(1, Math.round((performance.now() - due) * 1000)));
        },
        (err: unknown) => void (failure ??= err),
      );
      const tracked = p.finally(() => {
        inFlight--;
        pending.delete(tracked);
        const w = wake;
        wake = null;
        w?.();
      });
      pending.add(tracked);
    }
    await Promise.all(pending);
    if (failure !== null) throw failure;
    return histogram.getValueAtPercentile(99) / 1000;
  } finally {
    histogram.destroy();
  }
}
