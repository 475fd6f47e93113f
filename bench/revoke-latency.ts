/**
 * Revoke-to-disconnect latency of the all-in-one on PostgreSQL + Redis (or
 * the embedded backends with --embedded): N tokens, one MQTT 5 session each;
 * for each token, the time from sending `DELETE /v1/tokens/{id}` to the
 * client seeing its connection closed (DISCONNECT 0x98). Prints p50/p90/p99.
 *
 *   npm run build && node dist/bench/revoke-latency.js [--count 200] [--embedded]
 */
import mqtt from 'mqtt';

import { loadConfig } from '@signet/config';

import { startAllInOne } from '../apps/signet/src/signet.composition';
import { benchBackend } from './lib/signet-env';

const args = process.argv.slice(2);
const count = Number(args[args.indexOf('--count') + 1] || 200) || 200;
const embedded = args.includes('--embedded');

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function main(): Promise<void> {
  const backend = await benchBackend('revoke', embedded);
  const signet = await startAllInOne(loadConfig(backend.env));
  const base = `http://127.0.0.1:${signet.ports.http}`;
  const key = signet.service!.bootstrap!.apiKey;
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
    await backend.cleanup();
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
