/**
 * Aedes as a system under test, in its own process: MQTT over TCP and over
 * WebSocket (`ws`), with authenticate/authorize hooks doing the work Mosquitto
 * does with its password file and ACL: PBKDF2-SHA512 (101 iterations, as
 * mosquitto_passwd) per CONNECT, topic-filter grants checked per PUBLISH and
 * SUBSCRIBE. A small HTTP control endpoint adds users and revokes them
 * (closing their live connections), for the revocation scenarios.
 *
 *   BENCH_AEDES_USERS=<users.json> node dist/bench/aedes-server.js
 * prints `aedes ready {"tcp":…,"ws":…,"http":…}`. With `BENCH_AEDES_REDIS=redis://host:port/db` it is one
 * instance of a cluster: Aedes's own Redis emitter and persistence (mqemitter-redis,
 * aedes-persistence-redis) on that database.
 */
import { pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';

import { createRequire } from 'node:module';

import { Aedes, type AuthenticateError, type Client } from 'aedes';
import MQEmitterRedis from 'mqemitter-redis';
import { WebSocketServer, createWebSocketStream } from 'ws';

import { expandGrants, filterCovers, topicMatches } from './lib/topics';

export interface AedesUser {
  username: string;
  password: string;
  publish: string[];
  subscribe: string[];
}

interface StoredUser {
  salt: Buffer;
  hash: Buffer;
  publish: string[];
  subscribe: string[];
  revoked: boolean;
}

interface Grants {
  username: string;
  publish: string[];
  subscribe: string[];
}

const ITERATIONS = 101;

function hashPassword(password: string, salt: Buffer): Buffer {
  return pbkdf2Sync(password, salt, ITERATIONS, 64, 'sha512');
}

const users = new Map<string, StoredUser>();
const grants = new WeakMap<Client, Grants>();
const clientsByUser = new Map<string, Set<Client>>();

function addUser(u: AedesUser): void {
  const salt = randomBytes(12);
  users.set(u.username, { salt, hash: hashPassword(u.password, salt), publish: u.publish, subscribe: u.subscribe, revoked: false });
}

function authError(): AuthenticateError {
  return Object.assign(new Error('bad username or password'), { returnCode: 4 }) as AuthenticateError;
}

/** Aedes's Redis emitter and persistence on `url`'s host, port and database number. */
function redisCluster(url: string): { mq: unknown; persistence: unknown } {
  const { hostname, port, pathname } = new URL(url);
  const redis = { host: hostname, port: Number(port || 6379), db: Number(pathname.slice(1) || 0) };
  // aedes-persistence-redis ships no types.
  const persistence = createRequire(__filename)('aedes-persistence-redis') as (o: object) => unknown;
  return { mq: MQEmitterRedis(redis), persistence: persistence(redis) };
}

async function main(): Promise<void> {
  const file = process.env['BENCH_AEDES_USERS'];
  if (file) for (const u of JSON.parse(readFileSync(file, 'utf8')) as AedesUser[]) addUser(u);

  const redisUrl = process.env['BENCH_AEDES_REDIS'];
  const aedes = await Aedes.createBroker({
    ...(redisUrl ? redisCluster(redisUrl) : {}),
    authenticate: (client, username, password, done) => {
      const user = username === undefined ? undefined : users.get(username);
      if (user === undefined || user.revoked || password === undefined) return done(authError(), false);
      const hash = hashPassword(password.toString(), user.salt);
      if (!timingSafeEqual(hash, user.hash)) return done(authError(), false);
      const userId = username!.slice(0, username!.lastIndexOf('@'));
      grants.set(client, { username: username!, publish: expandGrants(user.publish, userId), subscribe: expandGrants(user.subscribe, userId) });
      done(null, true);
    },
    authorizePublish: (client, packet, callback) => {
      const g = client === null ? undefined : grants.get(client);
      if (g === undefined || !g.publish.some((f) => topicMatches(f, packet.topic))) return callback(new Error('not authorized'));
      callback(null);
    },
    authorizeSubscribe: (client, subscription, callback) => {
      const g = grants.get(client);
      if (g === undefined || !g.subscribe.some((f) => filterCovers(f, subscription.topic))) return callback(new Error('not authorized'));
      callback(null, subscription);
    },
  });
  aedes.on('client', (client: Client) => {
    const g = grants.get(client);
    if (g === undefined) return;
    let set = clientsByUser.get(g.username);
    if (set === undefined) clientsByUser.set(g.username, (set = new Set()));
    set.add(client);
  });
  aedes.on('clientDisconnect', (client: Client) => {
    const g = grants.get(client);
    if (g !== undefined) clientsByUser.get(g.username)?.delete(client);
  });

  const tcp = net.createServer({ noDelay: true }, (socket) => aedes.handle(socket));
  const wsHttp = http.createServer();
  const wss = new WebSocketServer({ server: wsHttp, path: '/mqtt', perMessageDeflate: false });
  wss.on('connection', (socket, req) => aedes.handle(createWebSocketStream(socket), req));

  const control = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/users') {
        addUser(JSON.parse(body) as AedesUser);
        res.writeHead(204).end();
      } else if (req.method === 'POST' && req.url === '/revoke') {
        const { username } = JSON.parse(body) as { username: string };
        const user = users.get(username);
        if (user !== undefined) user.revoked = true;
        const live = clientsByUser.get(username);
        clientsByUser.delete(username);
        if (live !== undefined) for (const c of live) c.close();
        res.writeHead(204).end();
      } else {
        res.writeHead(404).end();
      }
    });
  });

  const listen = (server: net.Server): Promise<number> =>
    new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
  const ports = { tcp: await listen(tcp), ws: await listen(wsHttp), http: await listen(control) };
  process.stdout.write(`aedes ready ${JSON.stringify(ports)}\n`);
  const stop = (): void => {
    aedes.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
