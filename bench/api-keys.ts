/**
 * API key throughput of the all-in-one on PostgreSQL + Redis (or the embedded
 * backends with --embedded). Not a timed test: it prints figures.
 *
 *  - MQTT CONNECTs/s with a key on first use: every CONNECT presents a key the
 *    edge has never seen, so each one costs a bcrypt check in the key service;
 *  - MQTT CONNECTs/s once the key's verdict is cached (no bcrypt, no database);
 *  - REST calls/s authenticated with a key (GET /v1/keys/{id}: verdict cached,
 *    one primary-key read).
 *
 *   npm run build && node dist/bench/api-keys.js [--keys 100] [--connects 2000] [--seconds 5] [--concurrency 16] [--embedded]
 */
import { cpus } from 'node:os';

import mqtt from 'mqtt';

import { ApiKeysService } from '@signet/api-keys';
import { loadConfig } from '@signet/config';

import { startAllInOne } from '../apps/signet/src/signet.composition';
import { benchBackend } from './lib/signet-env';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) || fallback : fallback;
};
const keyCount = arg('keys', 100);
const connectCount = arg('connects', 2000);
const seconds = arg('seconds', 5);
const concurrency = arg('concurrency', 16);
const embedded = args.includes('--embedded');

/** Runs `task(i)` for i in [0, n) with `width` in flight; returns the elapsed ms. */
async function pool(n: number, width: number, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (next < n) await task(next++);
    }),
  );
  return performance.now() - start;
}

async function main(): Promise<void> {
  const backend = await benchBackend('keys', embedded);
  const signet = await startAllInOne(loadConfig(backend.env));
  try {
    const orgId = signet.service!.bootstrap!.orgId;
    const keys = signet.service!.app.get(ApiKeysService);
    const mqttUrl = `mqtt://127.0.0.1:${signet.ports.mqtt}`;
    process.stdout.write(
      `backend: ${embedded ? 'embedded (PGlite, in-process bus)' : 'PostgreSQL + Redis'}; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}); bcrypt cost 10\n`,
    );

    // Keys created directly (bcrypt hashing is the same cost as through the API, without HTTP in the figure).
    const created: { id: string; key: string; name: string }[] = [];
    await pool(keyCount, 8, async (i) => {
      const name = `bench-${i}`;
      const k = await keys.createKey({ orgId, name, type: 'secret' });
      created.push({ id: k.keyId, key: k.apiKey, name });
    });

    const connectOnce = (k: { key: string; name: string }) =>
      new Promise<void>((resolve, reject) => {
        const c = mqtt.connect(mqttUrl, { username: `${k.name}@${orgId}`, password: k.key, protocolVersion: 5, reconnectPeriod: 0 });
        c.once('connect', () => {
          c.end(true);
          resolve();
        });
        c.once('error', (err) => {
          c.end(true);
          reject(err);
        });
      });

    const bcryptBefore = keys.stats.bcryptChecks;
    const firstMs = await pool(created.length, concurrency, (i) => connectOnce(created[i]));
    const bcryptRuns = keys.stats.bcryptChecks - bcryptBefore;
    process.stdout.write(
      `MQTT CONNECT, key on first use:  ${((created.length / firstMs) * 1000).toFixed(0)}/s  (${created.length} distinct keys, ${bcryptRuns} bcrypt checks, concurrency ${concurrency})\n`,
    );

    const cachedMs = await pool(connectCount, concurrency, (i) => connectOnce(created[i % created.length]));
    process.stdout.write(
      `MQTT CONNECT, verdict cached:    ${((connectCount / cachedMs) * 1000).toFixed(0)}/s  (${connectCount} CONNECTs, ${keys.stats.bcryptChecks - bcryptBefore - bcryptRuns} more bcrypt checks)\n`,
    );

    const base = `http://127.0.0.1:${signet.ports.http}`;
    const target = created[0];
    const headers = { authorization: `Bearer ${target.key}` };
    let calls = 0;
    let failures = 0;
    const deadline = performance.now() + seconds * 1000;
    const restStart = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          const res = await fetch(`${base}/v1/keys/${target.id}`, { headers });
          await res.arrayBuffer();
          if (res.status === 200) calls++;
          else failures++;
        }
      }),
    );
    const restMs = performance.now() - restStart;
    process.stdout.write(
      `REST GET /v1/keys/{id} with a key: ${((calls / restMs) * 1000).toFixed(0)}/s  (${calls} calls in ${(restMs / 1000).toFixed(1)} s, ${failures} failures, concurrency ${concurrency})\n`,
    );
  } finally {
    await signet.close();
    await backend.cleanup();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
