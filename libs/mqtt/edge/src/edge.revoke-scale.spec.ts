/**
 * Revocation at scale: 10,000 live MQTT 5.0 sessions of one credential are
 * closed by one revoke() call in well under 100 ms. The clients run in a child
 * process so that client and server sockets do not share one fd limit.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { MqttEdge } from './edge';
import { ORG_A, TestAuthenticator, UNLIMITED_CONNECT_RATE, waitFor } from './testing/helpers';

const SESSIONS = 10_000;

// Plain JS for the child: opens SESSIONS sockets in batches, sends a 5.0 CONNECT on each, reports
// "ready" when every CONNACK arrived, then "done <disconnect 0x98 count>" when every socket closed.
const CLIENT_SCRIPT = `
const net = require('node:net');
const [port, total, username, password] = [Number(process.argv[1]), Number(process.argv[2]), process.argv[3], process.argv[4]];
const str = (s) => { const b = Buffer.from(s); const l = Buffer.alloc(2); l.writeUInt16BE(b.length); return Buffer.concat([l, b]); };
const varInt = (n) => { const o = []; do { let b = n % 128; n = Math.floor(n / 128); if (n > 0) b |= 0x80; o.push(b); } while (n > 0); return Buffer.from(o); };
const connectPacket = (id) => {
  const body = Buffer.concat([str('MQTT'), Buffer.from([5, 0xc2, 0, 0, 0]), str(id), str(username), str(password)]);
  return Buffer.concat([Buffer.from([0x10]), varInt(body.length), body]);
};
let acked = 0, closed = 0, reason98 = 0, opened = 0;
function open(i) {
  const s = net.connect(port, '127.0.0.1');
  let first = true, buf = Buffer.alloc(0);
  s.on('connect', () => s.write(connectPacket('scale-' + i)));
  s.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    if (first && buf.length >= 2) { first = false; if (++acked === total) console.log('ready'); else if (acked % 500 === 0) batch(); }
    // DISCONNECT after the CONNACK: 0xE0, length, reason code.
    const i = buf.indexOf(0xe0, 2);
    if (i >= 0 && buf[i + 2] === 0x98) { reason98++; buf = Buffer.alloc(0); }
  });
  s.on('error', () => {});
  s.on('close', () => { if (++closed === total) console.log('done ' + reason98); });
}
function batch() { const end = Math.min(opened + 500, total); while (opened < end) open(opened++); }
batch();
`;

describe('revoke at scale', () => {
  let edge: MqttEdge;
  let child: ChildProcessWithoutNullStreams | null = null;

  afterAll(async () => {
    child?.kill();
    await edge?.close();
  });

  it(`closes ${SESSIONS} live sessions of one credential in well under 100 ms`, async () => {
    // All clients share 127.0.0.1 and one user: lift the per-address cap and the connect rate limits.
    edge = new MqttEdge({
      authenticator: new TestAuthenticator(),
      limits: { sweepIntervalMs: 100, maxConnectionsPerIp: 20_000, ...UNLIMITED_CONNECT_RATE },
    });
    const { port } = await edge.listenTcp(0, '127.0.0.1');
    const cred = 'tok_scale';
    child = spawn(process.execPath, ['-e', CLIENT_SCRIPT, String(port), String(SESSIONS), `scale@${ORG_A}`, `good:${cred}`]);
    const lines: string[] = [];
    const waitLine = (prefix: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const line = lines.find((l) => l.startsWith(prefix));
          if (line !== undefined) resolve(line);
        };
        child!.stdout.on('data', (d: Buffer) => {
          lines.push(...d.toString().split('\n').filter(Boolean));
          check();
        });
        child!.once('exit', () => reject(new Error(`client process exited: ${lines.join(' | ')}`)));
        check();
      });
    await waitLine('ready');
    expect(edge.stats().sessions).toBe(SESSIONS);

    const started = performance.now();
    const closed = edge.revoke([cred]);
    const elapsed = performance.now() - started;

    // revoke() itself: sessions closed and dropped, in memory. The DISCONNECTs and socket ends are
    // written by the next batched flush (one loop turn later).
    expect(closed).toBe(SESSIONS);
    expect(edge.stats().sessions).toBe(0);
    expect(elapsed).toBeLessThan(100);
    await waitFor(() => edge.stats().connections === 0, 5000, 'all sockets closed');
    const socketsClosed = performance.now() - started;
    const done = await waitLine('done');
    expect(Number(done.split(' ')[1])).toBe(SESSIONS); // every client saw DISCONNECT 0x98
    console.log(`revoke(): ${elapsed.toFixed(1)} ms; all ${SESSIONS} sockets closed after ${socketsClosed.toFixed(0)} ms`);
  }, 60_000);
});
