/**
 * Memory held by connections that have not authenticated (issue 18, finding 3). Not a timed test: it
 * prints figures. Opens `--connections` sockets from one address, each declaring a `--declared`-byte
 * CONNECT and sending `--sent` bytes of it slowly, then closes them all. Printed: how many the edge
 * closed, its unauthenticated-bytes counter, and the process's RSS / external memory before, at the
 * peak and after the sockets close (after a GC). The clients run in a child process, so the figures are
 * the edge's alone.
 *
 * `--unlimited` lifts the pre-authentication limits (CONNECT up to maxPacketSize, no byte budgets): the
 * edge as it was before them.
 *
 *   npm run build && node --expose-gc dist/bench/pre-auth-memory.js [--connections 1000] [--declared 1048000] [--sent 60000] [--unlimited]
 */
import { fork } from 'node:child_process';
import { connect, type Socket } from 'node:net';

import { MqttEdge } from '@signet/mqtt-edge';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) || fallback : fallback;
};
const connections = arg('connections', 1000);
const declared = arg('declared', 1_048_000);
const sent = arg('sent', 60_000);
const PIECE = 4096;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MiB`;
/** After two full GCs: ArrayBuffer backing stores are freed by the GC after the one that finds them dead. */
const memory = async () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  await sleep(100);
  gc?.();
  const m = process.memoryUsage();
  return `RSS ${mib(m.rss)}, external ${mib(m.external + m.arrayBuffers)}`;
};

/** Remaining Length as a variable byte integer (MQTT §1.5.5). */
function varInt(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

/** The child: opens the sockets, sends the partial CONNECTs, reports, then closes them when told. */
async function client(port: number): Promise<void> {
  const sockets: Socket[] = [];
  let closed = 0;
  for (let i = 0; i < connections; i++) {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    s.once('close', () => closed++);
    sockets.push(s);
    // Below the listen backlog at a time: every socket is accepted before the bytes go.
    if (i % 200 === 199) await sleep(100);
  }
  await sleep(300);
  for (const s of sockets) s.write(Buffer.concat([Buffer.from([0x10]), varInt(declared)]));
  for (let off = 0; off < sent; off += PIECE) {
    for (const s of sockets) if (!s.destroyed && s.writableLength < 64 * 1024) s.write(Buffer.alloc(Math.min(PIECE, sent - off)));
    await sleep(20);
  }
  await sleep(300);
  process.send!({ closed });
  process.once('message', () => {
    for (const s of sockets) s.destroy();
    process.exit(0);
  });
}

async function main(): Promise<void> {
  const unlimited = args.includes('--unlimited')
    ? { maxConnectPacketSize: 1024 * 1024, maxUnauthenticatedBytesPerIp: 2 ** 40, maxUnauthenticatedBytes: 2 ** 40 }
    : {};
  const edge = new MqttEdge({ authenticator: { authenticate: () => ({ ok: false, reason: 'bad_credentials' }) }, limits: { connectRatePerIp: 0, ...unlimited } });
  const { port } = await edge.listenTcp(0, '127.0.0.1');
  process.stdout.write(`${connections} connections from 127.0.0.1, each declaring a ${declared}-byte CONNECT and sending ${sent} bytes of it in ${PIECE}-byte pieces\n`);
  process.stdout.write(`before:        ${await memory()}\n`);
  let peak = 0;
  const watch = setInterval(() => (peak = Math.max(peak, edge.stats().unauthenticatedBytes)), 10);
  const child = fork(process.argv[1], ['--client', String(port), ...args], { stdio: 'inherit' });
  const { closed } = await new Promise<{ closed: number }>((resolve) => child.once('message', (m) => resolve(m as { closed: number })));
  process.stdout.write(`peak:          ${await memory()}; edge holds ${edge.stats().unauthenticatedBytes} bytes (peak ${peak}); ${closed} of ${connections} closed by the edge\n`);
  child.send('close');
  await new Promise((r) => child.once('exit', r));
  await sleep(1000);
  clearInterval(watch);
  process.stdout.write(`after close:   ${await memory()}; edge holds ${edge.stats().unauthenticatedBytes} bytes, ${edge.stats().connections} connections\n`);
  await edge.close();
  await sleep(200);
  process.stdout.write(`edge closed:   ${await memory()}\n`);
}

const clientAt = args.indexOf('--client');
(clientAt >= 0 ? client(Number(args[clientAt + 1])) : main()).catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
