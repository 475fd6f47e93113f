import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Redis from 'ioredis';
import { Client } from 'pg';

import type { Row } from './lib/report';

/**
 * The benchmark in smoke mode (tiny counts, one round): it starts Signet,
 * Mosquitto and Aedes, runs every scenario and writes well-formed JSON. No
 * timing is asserted here; figures from a loaded test machine mean nothing.
 */
const ROOT = join(__dirname, '..');
const SCENARIOS = [
  'connect_tkn',
  'connect_key',
  'p2p_qos0',
  'p2p_qos1',
  'fanout_qos0',
  'fanin_qos0',
  'ws_p2p_qos0',
  'latency_5k',
  'gc_1core',
  'idle_mem_tcp',
  'idle_mem_ws',
  'revoke_one',
  'revoke_10k',
  'token_api',
  'token_issue',
  'token_refresh',
  'exchange_hs256',
  'exchange_rs256',
  'refresh_storm',
  'cluster_p2p_qos0',
  'cluster_p2p_qos1',
  'cluster_fanout_qos0',
];

/** Runs a built bench script (default: the benchmark) and resolves with its stdout. */
const runBench = (args: string[], timeout: number, script = 'run.js'): Promise<string> =>
  new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [join(ROOT, 'dist/bench', script), ...args], { cwd: ROOT, timeout }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    );
  });

/** Databases the bench creates for Signet on PostgreSQL (it drops them when it stops). */
/** The benchmark's Redis keys (`signet-bench-<hex>:…`), by prefix. */
async function benchRedisKeys(): Promise<string[]> {
  const redis = new Redis(process.env['SIGNET_TEST_REDIS_URL'] || 'redis://127.0.0.1:6379');
  try {
    return [...new Set((await redis.keys('signet-bench-*')).map((k) => k.split(':')[0]))].sort();
  } finally {
    await redis.quit();
  }
}

async function benchDatabases(): Promise<string[]> {
  const client = new Client({ connectionString: process.env['SIGNET_TEST_DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test' });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'signet_bench_%'`);
    return rows.map((r) => r.datname);
  } finally {
    await client.end();
  }
}

describe('bench --smoke', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-smoke-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // Three systems, 10,000-connection memory scenarios: about 30 s on a quiet 2-core machine, far more on a
  // loaded one. The limits only stop a hung run; no figure is asserted.
  it('runs every scenario on the three systems and writes the results as JSON', async () => {
    const file = join(dir, 'results.json');
    const output = await runBench(['--smoke', '--json', file], 170_000);
    expect(output).toContain('| scenario | metric |');

    const report = JSON.parse(await readFile(file, 'utf8')) as { machine: Record<string, unknown>; rows: Row[] };
    expect(report.machine).toEqual(expect.objectContaining({ cores: expect.any(Number), node: process.version, mode: 'smoke' }));
    expect(new Set(report.rows.map((r) => r.scenario))).toEqual(new Set(SCENARIOS));
    for (const row of report.rows) {
      expect(Object.keys(row).sort()).toEqual(['aedes', 'metric', 'mosquitto', 'scenario', 'signet', 'unit']);
      expect(typeof row.metric).toBe('string');
      expect(typeof row.unit).toBe('string');
      for (const system of ['signet', 'mosquitto', 'aedes'] as const) {
        const v = row[system];
        if (v !== null) expect(Number.isFinite(v)).toBe(true);
      }
    }
    const figure = (scenario: string, system: 'signet' | 'mosquitto' | 'aedes') => report.rows.find((r) => r.scenario === scenario)![system];
    // Shape, not speed: the systems produced figures where they have them, and null where they cannot.
    expect(figure('p2p_qos0', 'signet')).not.toBeNull();
    expect(figure('p2p_qos0', 'mosquitto')).not.toBeNull();
    expect(figure('p2p_qos0', 'aedes')).not.toBeNull();
    expect(figure('ws_p2p_qos0', 'mosquitto')).toBeNull();
    expect(figure('revoke_one', 'mosquitto')).toBeNull();
    // The cluster scenarios: Signet as a token service and three edges on Redis; no Mosquitto column.
    const cluster = (metric: string) => report.rows.find((r) => r.scenario === 'cluster_p2p_qos1' && r.metric === metric)!;
    expect(cluster('deliveries').signet).not.toBeNull();
    expect(cluster('deliveries_one_edge').signet).not.toBeNull();
    expect(cluster('cost_growth').signet).not.toBeNull();
    expect(cluster('nodes_cost_growth').signet).not.toBeNull();
    expect(cluster('deliveries').mosquitto).toBeNull();
    // Aedes on two instances sharing Redis through mqemitter-redis and aedes-persistence-redis.
    expect(cluster('deliveries').aedes).not.toBeNull();
    expect(cluster('deliveries_one_edge').aedes).not.toBeNull();
  }, 180_000);

  it('runs Signet on PostgreSQL and Redis with --signet-backend postgres, and drops its database and Redis keys afterwards', async () => {
    const before = await benchDatabases();
    const keysBefore = await benchRedisKeys();
    const file = join(dir, 'postgres.json');
    await runBench(['--smoke', '--systems', 'signet', '--signet-backend', 'postgres', '--only', 'connect_tkn,revoke_one,token_api', '--json', file], 110_000);
    const report = JSON.parse(await readFile(file, 'utf8')) as { machine: Record<string, unknown>; rows: Row[]; errors?: string[] };
    expect(report.errors).toBeUndefined();
    expect(report.machine['signet_backend']).toBe('postgres');
    for (const row of report.rows) {
      expect(row.signet).not.toBeNull();
      expect(row.mosquitto).toBeNull();
    }
    expect(await benchDatabases()).toEqual(before);
    expect(await benchRedisKeys()).toEqual(keysBefore);
  }, 120_000);

  it('bench:floor measures a bare node:net server next to Signet and Mosquitto', async () => {
    const output = await runBench(['--count', '50', '--rounds', '1'], 60_000, 'floor.js');
    expect(output).toMatch(/^connects per CPU-second, median of 1: bare node:net [\d,]+, Signet [\d,]+, Mosquitto [\d,]+; .*Signet\/Mosquitto [\d.]+×$/m);
    expect(output).toMatch(/^all 50 sockets closed, median of 1: bare node:net \d+ ms \(its close loop \d+ ms\), Signet revoke \d+ ms; Signet\/node:net [\d.]+×$/m);
  }, 70_000);

  it('bench:cluster-split prints each placement\'s CPU per delivery, and leaves no Redis keys behind', async () => {
    const keysBefore = await benchRedisKeys();
    const output = await runBench(['--smoke', '--edges', '2', '--rounds', '1'], 110_000, 'cluster-split.js');
    expect(output).toMatch(/^median of 1: local [\d.]+ µs, one-way [\d.]+ µs \([\d.]+×\), spread [\d.]+ µs \([\d.]+×\) CPU per delivery, 2 edges and Redis$/m);
    expect(await benchRedisKeys()).toEqual(keysBefore);
  }, 120_000);

  it('refuses an unknown --signet-backend', async () => {
    await expect(runBench(['--smoke', '--signet-backend', 'sqlite'], 30_000)).rejects.toThrow(/--signet-backend: one of embedded, postgres/);
  });
});
