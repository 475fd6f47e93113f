/**
 * Node.js's own floor for the edge's connection work: a bare node:net server
 * (no MQTT parsing, no authentication, no bookkeeping) that answers a
 * connection's first bytes with a CONNACK, closes the socket on the next ones
 * (the client's DISCONNECT), and on `POST /close` destroys every socket it
 * holds in one loop, which is what the edge does for 3.1.1 sessions of a
 * revoked credential. Prints `floor-server ready {"tcp":…,"http":…}`.
 * Started by floor.ts.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';

const CONNACK = Buffer.from([0x20, 0x02, 0x00, 0x00]);
const sockets = new Set<net.Socket>();

type FloorSocket = net.Socket & { connacked?: boolean };

function onData(this: FloorSocket): void {
  if (this.connacked) {
    this.destroy();
    return;
  }
  this.connacked = true;
  this.write(CONNACK);
}

const mqtt = net.createServer({ noDelay: true }, (socket) => {
  sockets.add(socket);
  socket.on('data', onData);
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
  process.stdout.write(`floor-server ready ${JSON.stringify({ tcp, http: port })}\n`);
});
