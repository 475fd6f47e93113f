/**
 * The floor of revoke_10k: a bare node:net server that answers every
 * connection's first bytes with a CONNACK, holds the sockets, and on
 * `POST /close` destroys them all in one loop, which is what the edge does
 * for 3.1.1 sessions of a revoked credential, minus everything else.
 * Prints `close-floor ready {"tcp":…,"http":…}`. Started by close-floor.ts.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';

const CONNACK = Buffer.from([0x20, 0x02, 0x00, 0x00]);
const sockets = new Set<net.Socket>();

const mqtt = net.createServer({ noDelay: true }, (socket) => {
  sockets.add(socket);
  socket.once('data', () => socket.write(CONNACK));
  socket.on('error', () => undefined);
  socket.on('close', () => sockets.delete(socket));
});

const control = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/close') {
    res.writeHead(404).end();
    return;
  }
  const started = performance.now();
  const n = sockets.size;
  for (const socket of sockets) socket.destroy();
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ closed: n, loop_ms: performance.now() - started }));
});

const listen = (server: net.Server): Promise<number> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

void Promise.all([listen(mqtt), listen(control)]).then(([tcp, port]) => {
  process.on('SIGTERM', () => process.exit(0));
  process.stdout.write(`close-floor ready ${JSON.stringify({ tcp, http: port })}\n`);
});
