/**
 * Node.js's floor next to Signet (and Mosquitto), in one run, for the two
 * figures where the edge's cost is mostly Node's own socket work:
 *  - connects: CONNECT+CONNACK+DISCONNECT per CPU-second (connect_tkn's loop)
 *    against floor-server.ts, a bare node:net server that answers CONNACK
 *    without reading the packet, Signet with `tkn_` tokens and Mosquitto with
 *    its password file;
 *  - closes: the time until all of `--count` loopback sockets are closed
 *    (revoke_10k's timeMassClose), the bare server destroying them in one loop
 *    against Signet revoking one credential with that many sessions.
 * Every server is pinned to the systems' core, the same load generator drives
 * them, rounds interleaved; medians printed.
 *
 * Each connect figure is a window of `--seconds` (default 3: a one-second window, the quick
 * mode's, moved the floor itself by ±30% between rounds here).
 *
 *   npm run bench:floor [-- --count 10000] [--rounds 5] [--seconds 3]
 */
import { join, resolve } from 'node:path';

import { pinCores, raiseFileLimit } from './lib/proc';
import { median } from './lib/report';
import { MODES, sleep } from './lib/scenario';
import { MosquittoSystem, SignetSystem, spawnPinned, stopChild, waitForOutput } from './lib/systems';
import { runConnects } from './scenarios/connect';
import { timeMassClose } from './scenarios/revoke-10k';

const ROOT = resolve(__dirname, '..', '..');
const args = process.argv.slice(2);
const option = (flag: string, fallback: number): number => {
  const i = args.indexOf(flag);
  const v = i < 0 ? fallback : Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${flag} needs a positive integer`);
  return v;
};
const log = (msg: string): void => void process.stderr.write(`${msg}\n`);

async function main(): Promise<void> {
  const count = option('--count', 10000);
  const rounds = option('--rounds', 5);
  const seconds = option('--seconds', 3);
  raiseFileLimit(count * 2 + 1000);
  const pinning = pinCores();
  const mode = { ...MODES.quick, massConnections: count, durationMs: seconds * 1000 };
  const floorChild = spawnPinned('floor-server', pinning.system, process.execPath, [join(ROOT, 'dist/bench/floor-server.js')], { PATH: process.env['PATH'] });
  const options = { poolSize: 2, cores: pinning.system, root: ROOT, signetBackend: 'embedded' as const };
  const [signet, mosquitto] = await Promise.all([SignetSystem.start(options), MosquittoSystem.start(options)]);
  const connects = { floor: [] as number[], signet: [] as number[], mosquitto: [] as number[] };
  const closes = { floor: [] as number[], floorLoop: [] as number[], signet: [] as number[] };
  try {
    const ready = await waitForOutput(floorChild, /floor-server ready (\{.*\})/, 10000, 'floor server');
    const ports = JSON.parse(/floor-server ready (\{.*\})/.exec(ready)![1]) as { tcp: number; http: number };
    const floor = { name: 'floor', pid: floorChild.pid!, tcpPort: ports.tcp };
    const anyone = { username: 'floor', password: 'floor' };
    log(`floor: ${rounds} rounds, ${count} sockets to close; load generator on core ${pinning.load ?? 'any'}, servers on ${pinning.system ?? 'any'}`);
    for (let round = 1; round <= rounds; round++) {
      connects.floor.push((await runConnects({ mode, system: floor }, () => anyone))!);
      connects.signet.push((await runConnects({ mode, system: signet }, (i) => signet.user(i)))!);
      connects.mosquitto.push((await runConnects({ mode, system: mosquitto }, (i) => mosquitto.user(i)))!);
      const closeFloor = await timeMassClose(ports.tcp, anyone, count, 'floor', async () => {
        const res = await fetch(`http://127.0.0.1:${ports.http}/close`, { method: 'POST' });
        const body = (await res.json()) as { closed: number; loop_ms: number };
        if (body.closed !== count) throw new Error(`the floor server closed ${body.closed} sockets, not ${count}`);
        closes.floorLoop.push(body.loop_ms);
      });
      closes.floor.push(closeFloor);
      const revocable = await signet.revocable();
      closes.signet.push(await timeMassClose(signet.tcpPort, revocable.credential, count, 'signet-rk', () => revocable.revoke()));
      const last = (v: number[]): string => Math.round(v[v.length - 1]).toLocaleString('en-US');
      log(
        `[${round}/${rounds}] connects/cpu-s: node:net ${last(connects.floor)}, signet ${last(connects.signet)}, mosquitto ${last(connects.mosquitto)}; ` +
          `close ${count}: node:net ${last(closes.floor)} ms (its loop ${last(closes.floorLoop)} ms), signet revoke ${last(closes.signet)} ms`,
      );
      await sleep(200);
    }
  } finally {
    await Promise.all([signet.stop(), mosquitto.stop(), stopChild(floorChild)]);
  }
  const m = (v: number[]): number => median(v)!;
  const n = (v: number): string => Math.round(v).toLocaleString('en-US');
  process.stdout.write(
    [
      `connects per CPU-second, median of ${rounds}: bare node:net ${n(m(connects.floor))}, Signet ${n(m(connects.signet))}, Mosquitto ${n(m(connects.mosquitto))}; ` +
        `Signet/node:net ${(m(connects.signet) / m(connects.floor)).toFixed(2)}×, node:net/Mosquitto ${(m(connects.floor) / m(connects.mosquitto)).toFixed(2)}×, ` +
        `Signet/Mosquitto ${(m(connects.signet) / m(connects.mosquitto)).toFixed(2)}×`,
      `all ${count} sockets closed, median of ${rounds}: bare node:net ${n(m(closes.floor))} ms (its close loop ${n(m(closes.floorLoop))} ms), ` +
        `Signet revoke ${n(m(closes.signet))} ms; Signet/node:net ${(m(closes.signet) / m(closes.floor)).toFixed(2)}×`,
      '',
    ].join('\n'),
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`floor: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
