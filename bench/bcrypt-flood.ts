/**
 * Key-guessing flood against the all-in-one (issue 18, finding 2). Not a timed test: it prints figures.
 *
 * A flood of well-formed random `sk_` keys naming one real key id, each from its own loopback source
 * address (127.0.x.y), hits REST while a tenant whose verdict is cached keeps calling, then a fresh key
 * is used for the first time (client and server share the process: latencies include the flood's own
 * client work). Printed: the tenant's p50/p99 without and during the flood, the fresh key's
 * first-use latency during it, how many bcrypt runs the flood bought, and the answers it got.
 *
 *   npm run build && node dist/bench/bcrypt-flood.js [--guesses 1280] [--addresses 1000] [--concurrency 32] [--embedded]
 */
import { request } from 'node:http';
import { cpus } from 'node:os';

import { ApiKeysService } from '@signet/api-keys';
import { loadConfig } from '@signet/config';
import { newApiKey } from '@signet/credentials';

import { startAllInOne } from '../apps/signet/src/signet.composition';
import { benchBackend } from './lib/signet-env';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) || fallback : fallback;
};
const guesses = arg('guesses', 1280);
const addresses = arg('addresses', 1000);
const concurrency = arg('concurrency', 32);
const embedded = args.includes('--embedded');

/** GET `path` with `key`, from `localAddress`; resolves with the status and the elapsed ms. */
function get(port: number, path: string, key: string, localAddress = '127.0.0.1'): Promise<{ status: number; ms: number }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, localAddress, headers: { authorization: `Bearer ${key}` }, agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - start }));
    });
    req.once('error', reject);
    req.end();
  });
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};

async function main(): Promise<void> {
  const backend = await benchBackend('flood', embedded);
  const signet = await startAllInOne(loadConfig(backend.env));
  try {
    const orgId = signet.service!.bootstrap!.orgId;
    const keys = signet.service!.app.get(ApiKeysService);
    const port = signet.ports.http;
    if (port === undefined) throw new Error('the all-in-one serves no HTTP port');
    const victim = await keys.createKey({ orgId, name: 'victim', type: 'secret' });
    const tenant = await keys.createKey({ orgId, name: 'tenant', type: 'secret' });
    const fresh = await keys.createKey({ orgId, name: 'fresh', type: 'secret' });
    const tenantPath = `/v1/keys/${tenant.keyId}`;
    process.stdout.write(`backend: ${embedded ? 'embedded' : 'PostgreSQL + Redis'}; ${cpus().length} CPUs; ${guesses} guesses from ${addresses} addresses\n`);

    await get(port, tenantPath, tenant.apiKey);
    const quiet: number[] = [];
    for (let i = 0; i < 200; i++) quiet.push((await get(port, tenantPath, tenant.apiKey)).ms);

    const bcryptBefore = keys.stats.bcryptChecks;
    const cpuBefore = process.cpuUsage();
    const floodStart = performance.now();
    const answers = new Map<number, number>();
    let next = 0;
    let flooding = true;
    const flood = Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < guesses) {
          const i = next++;
          const j = i % addresses;
          const address = `127.0.${Math.floor(j / 254) + 1}.${(j % 254) + 1}`;
          const { status } = await get(port, tenantPath, newApiKey('secret', victim.keyId).key, address);
          answers.set(status, (answers.get(status) ?? 0) + 1);
        }
      }),
    ).finally(() => (flooding = false));
    const during: number[] = [];
    let freshMs = NaN;
    while (flooding) {
      during.push((await get(port, tenantPath, tenant.apiKey)).ms);
      if (Number.isNaN(freshMs) && during.length === 20) freshMs = (await get(port, `/v1/keys/${fresh.keyId}`, fresh.apiKey)).ms;
    }
    await flood;
    const floodMs = performance.now() - floodStart;
    const cpu = process.cpuUsage(cpuBefore);

    process.stdout.write(`tenant (cached) p50/p99 quiet:        ${percentile(quiet, 50).toFixed(1)} / ${percentile(quiet, 99).toFixed(1)} ms\n`);
    process.stdout.write(`tenant (cached) p50/p99 during flood: ${percentile(during, 50).toFixed(1)} / ${percentile(during, 99).toFixed(1)} ms (${during.length} calls)\n`);
    process.stdout.write(`fresh key, first use during flood:    ${freshMs.toFixed(1)} ms\n`);
    process.stdout.write(`bcrypt runs bought by the flood:      ${keys.stats.bcryptChecks - bcryptBefore} (process CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s, flood lasted ${(floodMs / 1000).toFixed(1)} s)\n`);
    process.stdout.write(`answers to the flood:                 ${[...answers].map(([s, n]) => `${s}×${n}`).join(', ')}\n`);
  } finally {
    await signet.close();
    await backend.cleanup();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
