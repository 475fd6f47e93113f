/**
 * Signet's MQTT edge against Mosquitto and Aedes, side by side in one run.
 *
 *   npm run bench                     full run (5 rounds)
 *   npm run bench -- --quick          under 5 minutes (3 rounds, shorter windows)
 *   npm run bench -- --smoke          tiny counts: checks it starts and reports (tests)
 *   options: --json FILE   --only connect_tkn,p2p_qos0   --systems signet,aedes   --rounds N
 *            --signet-backend embedded|postgres   (default embedded: PGlite in-process; postgres: the
 *            machine's PostgreSQL and Redis, SIGNET_TEST_DATABASE_URL / SIGNET_TEST_REDIS_URL, as deployed)
 *
 * The systems run as their own processes pinned to other cores than this one
 * (the load generator); scenarios run interleaved (each scenario on every
 * system in turn, round after round) and the median of the rounds is
 * reported. Results also go to bench/results/latest.{json,md}.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import { pinCores, raiseFileLimit } from './lib/proc';
import { buildRows, key, machineLine, markdownTable, type Report } from './lib/report';
import { MODES, sleep, type Mode, type ModeName, type Scenario } from './lib/scenario';
import {
  AedesSystem,
  killAllSystems,
  MosquittoSystem,
  mosquittoVersion,
  SIGNET_BACKENDS,
  SignetSystem,
  SYSTEMS,
  type SignetBackend,
  type StartOptions,
  type SystemName,
  type SystemUnderTest,
} from './lib/systems';
import { scenario as clusterFanout } from './scenarios/cluster-fanout-qos0';
import { scenario as clusterP2p0 } from './scenarios/cluster-p2p-qos0';
import { scenario as clusterP2p1 } from './scenarios/cluster-p2p-qos1';
import { scenario as connectKey } from './scenarios/connect-key';
import { scenario as connectTkn } from './scenarios/connect-tkn';
import { scenario as fanin } from './scenarios/fanin-qos0';
import { scenario as fanout } from './scenarios/fanout-qos0';
import { scenario as gc1core } from './scenarios/gc-1core';
import { scenario as idleTcp } from './scenarios/idle-mem-tcp';
import { scenario as idleWs } from './scenarios/idle-mem-ws';
import { scenario as latency } from './scenarios/latency-5k';
import { scenario as p2p0 } from './scenarios/p2p-qos0';
import { scenario as p2p1 } from './scenarios/p2p-qos1';
import { scenario as revoke10k } from './scenarios/revoke-10k';
import { scenario as revokeOne } from './scenarios/revoke-one';
import { scenario as exchangeHs256 } from './scenarios/exchange-hs256';
import { scenario as exchangeRs256 } from './scenarios/exchange-rs256';
import { scenario as refreshStorm } from './scenarios/refresh-storm';
import { scenario as tokenApi } from './scenarios/token-api';
import { scenario as tokenIssue } from './scenarios/token-issue';
import { scenario as tokenRefresh } from './scenarios/token-refresh';
import { scenario as wsP2p } from './scenarios/ws-p2p-qos0';

const ALL: Scenario[] = [connectTkn, connectKey, p2p0, p2p1, fanout, fanin, wsP2p, latency, gc1core, idleTcp, idleWs, revokeOne, revoke10k, tokenApi,
  // The credential side: Signet only, no broker to compare with.
  tokenIssue, tokenRefresh, exchangeHs256, exchangeRs256, refreshStorm,
  // Many edges: a token service and three edges on Redis (Aedes on Redis next to it).
  clusterP2p0, clusterP2p1, clusterFanout];

/** Repository root (run.js lives in dist/bench/). */
const ROOT = resolve(__dirname, '..', '..');

interface Args {
  mode: Mode;
  json: string | null;
  scenarios: Scenario[];
  systems: SystemName[];
  signetBackend: SignetBackend;
}

function parseArgs(argv: string[]): Args {
  const value = (flag: string): string | null => {
    const i = argv.indexOf(flag);
    if (i < 0) return null;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
    return v;
  };
  const modeName: ModeName = argv.includes('--smoke') ? 'smoke' : argv.includes('--quick') ? 'quick' : 'full';
  const mode: Mode = { ...MODES[modeName] };
  const rounds = value('--rounds');
  if (rounds !== null) mode.rounds = Math.max(1, Number(rounds));
  const only = value('--only')?.split(',');
  const unknown = only?.filter((n) => !ALL.some((s) => s.name === n)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown scenario(s): ${unknown.join(', ')}; known: ${ALL.map((s) => s.name).join(', ')}`);
  const systems = (value('--systems')?.split(',') ?? [...SYSTEMS]) as SystemName[];
  if (systems.some((s) => !SYSTEMS.includes(s))) throw new Error(`--systems: one of ${SYSTEMS.join(', ')}`);
  const signetBackend = (value('--signet-backend') ?? 'embedded') as SignetBackend;
  if (!SIGNET_BACKENDS.includes(signetBackend)) throw new Error(`--signet-backend: one of ${SIGNET_BACKENDS.join(', ')}`);
  return { mode, json: value('--json'), scenarios: only ? ALL.filter((s) => only.includes(s.name)) : ALL, systems, signetBackend };
}

const log = (msg: string): void => void process.stderr.write(`${msg}\n`);

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function startSystem(name: SystemName, options: StartOptions): Promise<SystemUnderTest> {
  switch (name) {
    case 'signet':
      return SignetSystem.start(options);
    case 'mosquitto':
      return MosquittoSystem.start(options);
    case 'aedes':
      return AedesSystem.start(options);
  }
}

function formatValue(v: number | null): string {
  return v === null ? 'null' : v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(3);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // Never leave a system running behind, whatever ends this process.
  process.on('exit', killAllSystems);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));
  const { mode } = args;
  const started = Date.now();
  const fileLimit = raiseFileLimit(65536);
  const pinning = pinCores();
  log(`bench: ${mode.name} mode, ${mode.rounds} round(s); load generator on core ${pinning.load ?? 'any'}, systems on ${pinning.system ?? 'any'}; nofile ${fileLimit}`);

  const startOptions = (poolSize: number): StartOptions => ({ poolSize, cores: pinning.system, root: ROOT, signetBackend: args.signetBackend });
  const systems: SystemUnderTest[] = [];
  const errors: string[] = [];
  const samples = new Map<string, Map<SystemName, number[]>>();
  try {
    for (const name of args.systems) {
      const t = Date.now();
      systems.push(await startSystem(name, startOptions(mode.poolSize)));
      log(`started ${name} (pid ${systems[systems.length - 1].pid}) in ${Date.now() - t} ms`);
    }
    for (let round = 1; round <= mode.rounds; round++) {
      for (const scenario of args.scenarios) {
        for (const system of systems) {
          if (!scenario.applies(system)) continue;
          try {
            const fresh = (extra: { nodeArgs?: string[] } = {}): Promise<SystemUnderTest> => startSystem(system.name, { ...startOptions(2), ...extra });
            const t0 = Date.now();
            const figures = await scenario.run({ mode, system, round, fresh, cores: pinning.system });
            const took = `(${((Date.now() - t0) / 1000).toFixed(1)} s)`;
            for (const m of scenario.metrics) {
              const v = figures[m.metric] ?? null;
              log(`[${round}/${mode.rounds}] ${scenario.name} ${system.name}: ${m.metric} ${formatValue(v)} ${m.unit} ${took}`);
              if (v === null || !Number.isFinite(v)) continue;
              const k = key(scenario.name, m);
              if (!samples.has(k)) samples.set(k, new Map());
              const bySystem = samples.get(k)!;
              if (!bySystem.has(system.name)) bySystem.set(system.name, []);
              bySystem.get(system.name)!.push(v);
            }
          } catch (err) {
            const msg = `${scenario.name} on ${system.name} (round ${round}): ${err instanceof Error ? err.message : String(err)}`;
            errors.push(msg);
            log(`error: ${msg}`);
          }
          await sleep(mode.name === 'smoke' ? 20 : 200);
        }
      }
    }
  } finally {
    await Promise.all(systems.map((s) => s.stop().catch(() => undefined)));
    await Promise.all(args.scenarios.map((s) => s.dispose?.().catch(() => undefined)));
  }

  const report: Report = {
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memory_gb: Math.round(totalmem() / 2 ** 30),
      kernel: release(),
      node: process.version,
      mosquitto: args.systems.includes('mosquitto') ? mosquittoVersion() : null,
      aedes: packageVersion('aedes'),
      signet_backend: args.signetBackend,
      load_cores: pinning.load,
      system_cores: pinning.system,
      mode: mode.name,
      rounds: mode.rounds,
      date: new Date().toISOString(),
      duration_s: Math.round((Date.now() - started) / 1000),
    },
    rows: buildRows(args.scenarios, samples),
  };
  if (errors.length > 0) report.errors = errors;
  const table = markdownTable(report.rows, args.signetBackend);
  process.stdout.write(`\n${machineLine(report.machine)}\n\n${table}\n`);
  const json = JSON.stringify(report, null, 2);
  if (args.json !== null) {
    await mkdir(dirname(resolve(args.json)), { recursive: true });
    await writeFile(args.json, json);
  }
  if (mode.name !== 'smoke') {
    const dir = join(ROOT, 'bench', 'results');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'latest.json'), json);
    await writeFile(join(dir, 'latest.md'), `${machineLine(report.machine)}\n\n${table}\n`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
