/**
 * Test support: the injected connect policy used by the specs (not a mock of
 * anything external — the authenticator *is* the edge's policy input), and
 * helpers around real `mqtt` clients on real sockets.
 */
import * as net from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import * as mqttPacket from 'mqtt-packet';
import type { IConnectPacket, Packet } from 'mqtt-packet';
import WebSocket from 'ws';
import { PermissionSet } from '@signet/permissions';
import { MqttEdge } from '../edge';
import type { EdgeLimits } from '../core/limits';
import type { AuthResult, ConnectAuthenticator, ConnectRequest, Principal } from '../core/principal';
import type { EdgeHooks } from '../core/types';

export const ORG_A = 'org_aaaaaaaaaaaa';
export const ORG_B = 'org_bbbbbbbbbbbb';

let seq = 0;
/** A name no other test of the run uses (client ids, topics, credentials). */
export const unique = (prefix: string): string => `${prefix}${++seq}${Math.random().toString(36).slice(2, 6)}`;

export type Transport = 'tcp' | 'ws';
export type Version = 4 | 5;

/**
 * Username `<subject>@<org>`. Password:
 *  - `good`            → principal, credential `cred_<subject>_<org>`, grants `users/<subject>/#`
 *  - `good:<cred>`     → same, credential `<cred>`
 *  - `expires:<ms>`    → same, expiring in <ms>
 *  - `slow:<ms>[:<cred>]` → same, answered asynchronously after <ms>
 *  - `grants:<cred>:<f1>,<f2>…` → credential `<cred>`, publish and subscribe grants exactly these filters
 *  - `user:<subject>`  → a valid credential of another subject than the username's (re-authentication tests)
 *  - `bad` / `forbidden` / `unavailable` → the matching refusal
 *  - any of the valid ones + `+will` (e.g. `good:c1+will`) → `willOnEnd: 'publish'` (the org publishes wills on revoke/expiry)
 * Subject `admin` gets `#` and `$SYS/#`.
 */
export class TestAuthenticator implements ConnectAuthenticator {
  calls = 0;
  constructor(private readonly now: () => number = Date.now) {}

  authenticate(request: ConnectRequest): AuthResult | Promise<AuthResult> {
    this.calls++;
    const [named, orgId] = (request.username ?? '').split('@');
    const raw = request.password?.toString() ?? '';
    const willOnEnd = raw.endsWith('+will') ? 'publish' : undefined;
    const password = willOnEnd ? raw.slice(0, -'+will'.length) : raw;
    const subject = password.startsWith('user:') ? password.slice(5) : named;
    if (!subject || !orgId?.startsWith('org_')) return { ok: false, reason: 'bad_credentials' };
    if (password === 'forbidden') return { ok: false, reason: 'not_authorized' };
    if (password === 'unavailable') return { ok: false, reason: 'server_unavailable' };
    if (password === 'busy') return { ok: false, reason: 'server_busy' };
    const [kind, arg, cred] = password.split(':');
    let credentialId = `cred_${subject}_${orgId}`;
    let expiresAt = Infinity;
    if (kind === 'good' && arg) credentialId = arg;
    else if (kind === 'slow' && cred) credentialId = cred;
    else if (kind === 'expires') expiresAt = this.now() + Number(arg);
    else if (kind === 'grants' && arg) credentialId = arg;
    else if (kind === 'user') credentialId = `cred_${subject}_${orgId}`;
    else if (kind !== 'good' && kind !== 'slow' && kind !== 'user') return { ok: false, reason: 'bad_credentials' };
    const grants = kind === 'grants' ? (cred ?? '').split(',').filter((f) => f !== '') : null;
    const permissions = grants
      ? new PermissionSet({ publish: grants, subscribe: grants })
      : subject === 'admin'
        ? new PermissionSet({ publish: ['#', '$SYS/#'], subscribe: ['#', '$SYS/#'] })
        : new PermissionSet({ publish: [`users/${subject}/#`], subscribe: [`users/${subject}/#`] });
    const principal: Principal = { credentialId, kind: 'token', orgId, subject, expiresAt, permissions, ...(willOnEnd ? { willOnEnd } : {}) };
    const result: AuthResult = { ok: true, principal };
    if (kind === 'slow') return new Promise((resolve) => setTimeout(() => resolve(result), Number(arg)));
    return result;
  }
}

export interface TestEdge {
  edge: MqttEdge;
  auth: TestAuthenticator;
  ports: Record<Transport, number>;
  url(transport: Transport): string;
  close(): Promise<void>;
}

/**
 * Every spec connects from 127.0.0.1, often as one user, far faster than any real client: the connect
 * rate limits are lifted unless a spec sets them.
 */
export const UNLIMITED_CONNECT_RATE: Partial<EdgeLimits> = Object.freeze({
  connectRatePerIp: 0,
  connectRatePerIdentity: 0,
});

export async function startEdge(limits: Partial<EdgeLimits> = {}, hooks?: EdgeHooks): Promise<TestEdge> {
  const auth = new TestAuthenticator();
  const edge = new MqttEdge({ authenticator: auth, limits: { sweepIntervalMs: 50, ...UNLIMITED_CONNECT_RATE, ...limits }, hooks });
  const tcp = await edge.listenTcp(0, '127.0.0.1');
  const ws = await edge.listenWebSocket(0, '127.0.0.1');
  const ports = { tcp: tcp.port, ws: ws.port };
  return {
    edge,
    auth,
    ports,
    url: (t) => (t === 'tcp' ? `mqtt://127.0.0.1:${ports.tcp}` : `ws://127.0.0.1:${ports.ws}/mqtt`),
    close: () => edge.close(),
  };
}

const clients = new Set<MqttClient>();

/** Connects and resolves on CONNACK success; rejects with the error (err.code = CONNACK code) otherwise. */
export function connect(
  url: string,
  version: Version,
  options: IClientOptions = {},
  setup?: (client: MqttClient) => void,
): Promise<MqttClient> {
  const client = mqtt.connect(url, {
    protocolVersion: version,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    clientId: `c-${Math.random().toString(36).slice(2, 10)}`,
    ...options,
  });
  clients.add(client);
  setup?.(client);
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      client.removeListener('connect', onConnect);
      client.end(true);
      reject(err);
    };
    const onConnect = (): void => {
      client.removeListener('error', onError);
      client.on('error', () => undefined);
      resolve(client);
    };
    client.once('error', onError);
    client.once('connect', onConnect);
    client.once('close', () => onError(new Error('closed before CONNACK')));
  });
}

/** The CONNACK code a refused connect gets. */
export async function refusalCode(url: string, version: Version, options: IClientOptions): Promise<number> {
  try {
    await connect(url, version, options);
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
  throw new Error('connect unexpectedly accepted');
}

/** Normal DISCONNECT, resolved when the socket is closed. */
export function endClient(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.end(false, {}, () => resolve()));
}

export async function endAllClients(): Promise<void> {
  await Promise.all([...clients].map((c) => new Promise<void>((resolve) => c.end(true, {}, () => resolve()))));
  clients.clear();
}

/**
 * One edge for the spec file: started before its tests (handed to `set`, with `limits` over the test
 * defaults), its `mqtt` clients ended and the edge closed after all of them.
 */
export function useEdge(set: (edge: TestEdge) => void, limits: Partial<EdgeLimits> = {}): void {
  let edge: TestEdge | undefined;
  beforeAll(async () => {
    edge = await startEdge(limits);
    set(edge);
  });
  afterAll(async () => {
    await endAllClients();
    await edge?.close();
  });
}

export interface Received {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
  dup: boolean;
  properties?: Record<string, unknown>;
}

/** Collects messages of a client. */
export function collect(client: MqttClient): Received[] {
  const list: Received[] = [];
  client.on('message', (topic, payload, packet) => {
    list.push({
      topic,
      payload: payload.toString(),
      qos: packet.qos,
      retain: packet.retain,
      dup: packet.dup,
      properties: packet.properties as Record<string, unknown> | undefined,
    });
  });
  return list;
}

export async function waitFor(predicate: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with the 5.0 DISCONNECT reason code the server sends (or -1 on close without one). */
export function nextServerDisconnect(client: MqttClient): Promise<number> {
  return new Promise((resolve) => {
    let code = -1;
    client.once('disconnect', (packet) => {
      code = packet.reasonCode ?? 0;
    });
    client.once('close', () => resolve(code));
  });
}

export function whenClosed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (!client.connected && client.disconnected) resolve();
    client.once('close', () => resolve());
  });
}

// ---------------------------------------------------------------- raw sockets

export interface RawClient {
  socket: net.Socket;
  data: Buffer[];
  closed: Promise<void>;
  received(): Buffer;
}

export function rawTcp(port: number): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const data: Buffer[] = [];
    socket.on('data', (d) => data.push(d));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('connect', () =>
      resolve({ socket, data, closed, received: () => Buffer.concat(data) }),
    );
    socket.once('error', reject);
  });
}

/** A minimal 3.1.1/5.0 CONNECT, encoded by hand so raw tests do not depend on a client library. */
export function connectBytes(version: Version, clientId: string, username: string, password: string, keepalive = 60): Buffer {
  const str = (s: string): Buffer => {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(2);
    len.writeUInt16BE(b.length);
    return Buffer.concat([len, b]);
  };
  const ka = Buffer.alloc(2);
  ka.writeUInt16BE(keepalive);
  const variable = Buffer.concat([
    str('MQTT'),
    Buffer.from([version, 0xc2]), // username + password + clean session
    ka,
    version === 5 ? Buffer.from([0]) : Buffer.alloc(0), // no properties
  ]);
  const payload = Buffer.concat([str(clientId), str(username), str(password)]);
  const body = Buffer.concat([variable, payload]);
  return Buffer.concat([Buffer.from([0x10]), varInt(body.length), body]);
}

/** A CONNECT packet: MQTT 3.1.1, clean, keepalive 60, client id `client-1`, unless `p` says otherwise. */
export function connectPacket(p: Partial<IConnectPacket> = {}): IConnectPacket {
  return { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 60, clientId: 'client-1', ...p };
}

/** The bytes of connectPacket(p), as mqtt-packet generates them for its protocol version. */
export function connectFrame(p: Partial<IConnectPacket> = {}): Buffer {
  const packet = connectPacket(p);
  return mqttPacket.generate(packet, { protocolVersion: packet.protocolVersion });
}

export function varInt(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

/** Bytes of a UTF-8 Encoded String field: two bytes of length, then the string. */
export function utf8Field(s: string): number[] {
  const b = Buffer.from(s);
  return [b.length >> 8, b.length & 0xff, ...b];
}

/**
 * A 5.0 CONNECT (client id `clientId`, Clean Start, no user name) with these raw CONNECT properties and, when
 * given, a will (topic `w/t`, payload `p`) with these raw will properties: for properties mqtt-packet cannot
 * generate (the same one twice, identifiers not allowed in CONNECT).
 */
export function rawConnect5(properties: number[], willProperties?: number[], clientId = 'c'): Buffer {
  const body = [...utf8Field('MQTT'), 5, willProperties === undefined ? 0x02 : 0x06, 0, 60, ...varInt(properties.length), ...properties, ...utf8Field(clientId)];
  if (willProperties !== undefined) body.push(...varInt(willProperties.length), ...willProperties, ...utf8Field('w/t'), ...utf8Field('p'));
  return Buffer.from([0x10, ...varInt(body.length), ...body]);
}

// ---------------------------------------------------------------- raw transports (tcp and ws)

/** A byte-level client on either transport, to send what no well-behaved client library would. */
export interface RawConnection {
  send(bytes: Buffer): void;
  received(): Buffer;
  isClosed(): boolean;
  closed: Promise<void>;
  destroy(): void;
  /** Stops (and starts again) reading the socket, as a client that does not keep up. */
  pause(): void;
  resume(): void;
}

export async function openRaw(target: TestEdge | number, transport: Transport): Promise<RawConnection> {
  const port = typeof target === 'number' ? target : target.ports[transport];
  if (transport === 'tcp') {
    const raw = await rawTcp(port);
    let isClosed = false;
    void raw.closed.then(() => (isClosed = true));
    return {
      send: (b) => raw.socket.write(b),
      received: raw.received,
      isClosed: () => isClosed,
      closed: raw.closed,
      destroy: () => raw.socket.destroy(),
      pause: () => raw.socket.pause(),
      resume: () => raw.socket.resume(),
    };
  }
  const ws = new WebSocket(`ws://127.0.0.1:${port}/mqtt`, 'mqtt');
  const data: Buffer[] = [];
  let isClosed = false;
  ws.on('message', (d: Buffer) => data.push(Buffer.from(d)));
  ws.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  void closed.then(() => (isClosed = true));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    send: (b) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(b, { binary: true });
    },
    received: () => Buffer.concat(data),
    isClosed: () => isClosed,
    closed,
    destroy: () => ws.terminate(),
    pause: () => ws.pause(),
    resume: () => ws.resume(),
  };
}

/** Decodes what the server sent (for assertions). */
export function decodeAll(bytes: Buffer, version: Version): Packet[] {
  const parser = mqttPacket.parser({ protocolVersion: version });
  const out: Packet[] = [];
  parser.on('packet', (p: Packet) => out.push(p));
  parser.on('error', () => undefined);
  parser.parse(bytes);
  return out;
}

export function encodePacket(packet: Packet, version: Version): Buffer {
  return mqttPacket.generate(packet, { protocolVersion: version });
}

/** Resolves true when closed within `ms`. */
export async function closesWithin(conn: RawConnection, ms: number): Promise<boolean> {
  return Promise.race([conn.closed.then(() => true), sleep(ms).then(() => false)]);
}

/** mulberry32: small, fast, good enough to drive mutations reproducibly. */
export function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
