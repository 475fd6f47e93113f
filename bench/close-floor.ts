/**
 * revoke_10k next to its floor, in one run: the time a bare Node.js server
 * (close-floor-server.ts: node:net, no MQTT, no bookkeeping) takes to close
 * as many loopback sockets, against Signet revoking one credential with that
 * many sessions. Both are pinned to the systems' core and measured by the
 * same load generator (revoke_10k's timeMassClose), rounds interleaved.
 *
 *   npm run bench:close-floor [-- --count 10000] [--rounds 5]
 */
import { join, resolve } from 'node:path';

import { pinCores, raiseFileLimit } from './lib/proc';
import { median } from './lib/report';
import { sleep } from './lib/scenario';
import { SignetSystem, spawnPinned, stopChild, waitForOutput } from './lib/systems';
import { timeMassClose } from './scenarios/revoke-10k';

const ROOT = resolve(__dirname, '..', '..');
const args = process.argv.slice(2);
const option = (flag: string, fallback: number): number => {
  const i = args.indexOf(flag);
  const v = i < 0 ? fallback : Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${flag} needs a positive integer`);
  return v;
};

async function main(): Promise<void> {
  const count = option('--count', 10000);
  const rounds = option('--rounds', 5);
  raiseFileLimit(count * 2 + 1000);
  const pinning = pinCores();
  const floorChild = spawnPinned('close-floor', pinning.system, process.execPath, [join(ROOT, 'dist/bench/close-floor-server.js')], { PATH: process.env['PATH'] });
  const signet = await SignetSystem.start({ poolSize: 2, cores: pinning.system, root: ROOT, signetBackend: 'embedded' });
  const figures = { floor: [] as number[], signet: [] as number[], floorLoop: [] as number[] };
  try {
    const ready = await waitForOutput(floorChild, /close-floor ready (\{.*\})/, 10000, 'close-floor server');
    const ports = JSON.parse(/close-floor ready (\{.*\})/.exec(ready)![1]) as { tcp: number; http: number };
    process.stderr.write(`close-floor: ${count} sockets, ${rounds} rounds; load generator on core ${pinning.load ?? 'any'}, servers on ${pinning.system ?? 'any'}\n`);
    for (let round = 1; round <= rounds; round++) {
      const floorMs = await timeMassClose(ports.tcp, { username: 'floor', password: 'floor' }, count, 'floor', async () => {
        const res = await fetch(`http://127.0.0.1:${ports.http}/close`, { method: 'POST' });
        const body = (await res.json()) as { closed: number; loop_ms: number };
        if (body.closed !== count) throw new Error(`the floor server closed ${body.closed} sockets, not ${count}`);
        figures.floorLoop.push(body.loop_ms);
      });
      figures.floor.push(floorMs);
      const revocable = await signet.revocable();
      figures.signet.push(await timeMassClose(signet.tcpPort, revocable.credential, count, 'signet-rk', () => revocable.revoke()));
      process.stderr.write(`[${round}/${rounds}] bare node:net ${floorMs.toFixed(0)} ms (its close loop ${figures.floorLoop[round - 1].toFixed(0)} ms); signet revoke ${figures.signet[round - 1].toFixed(0)} ms\n`);
      await sleep(200);
    }
  } finally {
    await signet.stop();
    await stopChild(floorChild);
  }
  const f = median(figures.floor)!;
  const s = median(figures.signet)!;
  process.stdout.write(
    `all ${count} sockets closed, median of ${rounds}: bare node:net ${f.toFixed(0)} ms (close loop ${median(figures.floorLoop)!.toFixed(0)} ms), ` +
      `Signet revoke ${s.toFixed(0)} ms: Signet/floor ${(s / f).toFixed(2)}×\n`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`close-floor: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
