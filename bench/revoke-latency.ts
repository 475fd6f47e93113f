/**
 * Revoke-to-disconnect latency of the all-in-one on PostgreSQL + Redis (or
 * the embedded backends with --embedded): N tokens, one MQTT 5 session each;
 * for each token, the time from sending `DELETE /v1/tokens/{id}` to the
 * client seeing its connection closed (DISCONNECT 0x98). Prints p50/p90/p99.
 *
 *   npm run build && node dist/bench/revoke-latency.js [--count 200] [--embedded]
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import mqtt from 'mqtt';
import { Client } from 'pg';

import { loadConfig } from '@signet/config';
import { startAllInOne } from '@signet/server';

const args = process.argv.slice(2);
const count = Number(args[args.indexOf('--count') + 1] || 200) || 200;
const embedded = args.includes('--embedded');
const pgUrl = process.env['SIGNET_TEST_DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = process.env['SIGNET_TEST_REDIS_URL'] || 'redis://127.0.0.1:6379';

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'signet-bench-'));
  const dbName = `signet_bench_${randomBytes(4).toString('hex')}`;
  const env: Record<string, string> = {
    SIGNET_HOST: '127.0.0.1',
    SIGNET_HTTP_PORT: '0',
    SIGNET_MQTT_PORT: '0',
    SIGNET_WS_PORT: '0',
    SIGNET_GRPC_PORT: '0',
    SIGNET_LOG_LEVEL: 'warn',
    SIGNET_DATA_DIR: dataDir,
  };
  if (!embedded) {
    const admin = new Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const url = new URL(pgUrl);
    url.pathname = `/${dbName}`;
    Object.assign(env, {
      DATABASE_URL: url.toString(),
      REDIS_URL: redisUrl,
      SIGNET_REDIS_PREFIX: `signet-bench-${randomBytes(4).toString('hex')}:`,
      SIGNET_MASTER_KEY: randomBytes(32).toString('base64'),
    });
  }
  const signet = await startAllInOne(loadConfig(env));
  const base = `http://127.0.0.1:${signet.ports.http}`;
  const key = signet.tokenService!.bootstrap!.apiKey;
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  process.stdout.write(`backend: ${embedded ? 'embedded (PGlite, in-process bus)' : 'PostgreSQL + Redis'}; ${count} revokes\n`);

  const samples: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const res = await fetch(`${base}/v1/tokens`, { method: 'POST', headers, body: JSON.stringify({ user_id: `bench_${i}` }) });
      const creds = (await res.json()) as { token_id: string; mqtt_credentials: { username: string; password: string } };
      const client = mqtt.connect(`mqtt://127.0.0.1:${signet.ports.mqtt}`, {
        ...creds.mqtt_credentials,
        protocolVersion: 5,
        reconnectPeriod: 0,
      });
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
      });
      const closed = new Promise<number>((resolve) => client.once('close', () => resolve(performance.now())));
      const t0 = performance.now();
      const del = await fetch(`${base}/v1/tokens/${creds.token_id}`, { method: 'DELETE', headers: { authorization: headers.authorization } });
      if (del.status !== 204) throw new Error(`revoke failed: ${del.status}`);
      samples.push((await closed) - t0);
      client.end(true);
    }
  } finally {
    await signet.close();
    await rm(dataDir, { recursive: true, force: true });
    if (!embedded) {
      const admin = new Client({ connectionString: pgUrl });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin.end();
    }
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const fmt = (v: number) => `${v.toFixed(2)} ms`;
  process.stdout.write(
    [
      `revoke call → socket closed, over ${sorted.length} revokes:`,
      `  p50 ${fmt(percentile(sorted, 50))}   p90 ${fmt(percentile(sorted, 90))}   p99 ${fmt(percentile(sorted, 99))}   max ${fmt(sorted[sorted.length - 1])}`,
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`revoke-latency: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
