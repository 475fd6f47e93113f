/**
 * A bounded fault campaign on loopback against Signet as it is deployed: PostgreSQL and Redis behind TCP
 * proxies that can stall or cut them, real MQTT clients, and the checks that must hold whatever happens —
 * no acknowledged revocation lost, no credential returned that does not work or working that was not
 * returned, no 5xx other than the documented 503s, no process that dies unasked.
 */
import mqtt, { type MqttClient } from 'mqtt';

import { TcpProxy } from '@signet/testing';

import { sleep } from '../lib/scenario';
import { benchBackend } from '../lib/signet-env';
import { SpawnedApp } from '../lib/spawned-app';

export type Topology = 'all-in-one' | 'split';

export interface CampaignOptions {
  topology: Topology;
  /** Users (each with a live MQTT session) per fault. */
  users: number;
  /** How long each stall or cut lasts. */
  faultMs: number;
  log?: (line: string) => void;
}

/** One row of the table: what was injected and what it broke (every column after `cut_by_fault` must be 0). */
export interface FaultRow {
  topology: Topology;
  fault: string;
  injected: number;
  sessions: number;
  /** Requests answered 503 while the fault lasted: shows it was felt (documented, not a failure). */
  answered_503: number;
  /** Sessions the fault itself closed, as it should: the killed edge's, the slow consumer (shows it was felt). */
  cut_by_fault: number;
  /** Sessions closed that nobody revoked and that no fault should have closed. */
  sessions_cut_wrongly: number;
  revocations_lost: number;
  credentials_lost: number;
  credentials_unreturned: number;
  unexpected_5xx: number;
  /** Requests that got no answer within 20 s (a hang, where a 503 was due). */
  unanswered: number;
  crashes: number;
}

export const ZERO_COLUMNS = ['sessions_cut_wrongly', 'revocations_lost', 'credentials_lost', 'credentials_unreturned', 'unexpected_5xx', 'unanswered', 'crashes'] as const;

interface Issued {
  token_id: string;
  mqtt_credentials: { username: string; password: string };
}

const STALL_MS = 6500;

/** A subscriber's write buffer the edge tolerates, and for how long, before it cuts a slow consumer (0x97). */
const SLOW_CONSUMER_ENV = {
  SIGNET_MQTT_MAX_WRITE_BUFFER_BYTES: String(256 * 1024),
  SIGNET_MQTT_SLOW_CONSUMER_MAX_BYTES: String(1024 * 1024),
  SIGNET_MQTT_SLOW_CONSUMER_GRACE_MS: '500',
};

/** The processes under test and their proxies. */
class Target {
  readonly apps: { name: string; app: SpawnedApp; expectedExit: boolean }[] = [];
  private constructor(
    readonly topology: Topology,
    readonly db: TcpProxy,
    readonly redis: TcpProxy,
    private readonly env: Record<string, string>,
    private readonly cleanup: () => Promise<void>,
    public http: string,
    readonly apiKey: string,
    public grpc: string,
  ) {}

  static async start(topology: Topology): Promise<Target> {
    const backend = await benchBackend('chaos', false);
    const db = TcpProxy.forUrl(backend.env['DATABASE_URL']);
    const redis = TcpProxy.forUrl(backend.env['REDIS_URL']);
    const dbUrl = new URL(backend.env['DATABASE_URL']);
    dbUrl.host = `127.0.0.1:${await db.start()}`;
    const env = {
      ...backend.env,
      DATABASE_URL: dbUrl.toString(),
      REDIS_URL: `redis://127.0.0.1:${await redis.start()}`,
      SIGNET_LOG_LEVEL: 'silent',
      SIGNET_MQTT_CONNECT_RATE_PER_IP: '0',
      SIGNET_MQTT_CONNECT_RATE_PER_IDENTITY: '0',
      ...SLOW_CONSUMER_ENV,
    };
    const first = SpawnedApp.start(topology === 'all-in-one' ? 'signet' : 'token-service', env);
    await first.ready(60_000);
    const apiKey = /^(sk_\S+)$/m.exec(first.stdout)?.[1];
    if (apiKey === undefined) throw new Error(`no bootstrap key in: ${first.stdout}`);
    const target = new Target(topology, db, redis, env, backend.cleanup, `http://127.0.0.1:${first.port('HTTP API')}`, apiKey, `127.0.0.1:${first.port('gRPC')}`);
    target.apps.push({ name: topology === 'all-in-one' ? 'signet' : 'token-service', app: first, expectedExit: false });
    if (topology === 'split') for (const id of ['edge-1', 'edge-2']) await target.startEdge(id);
    return target;
  }

  /** The all-in-one again on the same database and Redis (its ports change: they are picked at start). */
  async restartAllInOne(): Promise<SpawnedApp> {
    const app = SpawnedApp.start('signet', this.env);
    await app.ready(60_000);
    this.apps.push({ name: 'signet', app, expectedExit: false });
    this.http = `http://127.0.0.1:${app.port('HTTP API')}`;
    this.grpc = `127.0.0.1:${app.port('gRPC')}`;
    return app;
  }

  async startEdge(edgeId: string): Promise<SpawnedApp> {
    const app = SpawnedApp.start('mqtt-edge', { ...this.env, SIGNET_EDGE_ID: edgeId, SIGNET_EDGE_LEASE_MS: '2000', SIGNET_TOKEN_SERVICE_GRPC: this.grpc });
    await app.ready(60_000);
    this.apps.push({ name: edgeId, app, expectedExit: false });
    return app;
  }

  /** The MQTT listeners: the all-in-one's, or each live edge's. */
  mqttUrls(): string[] {
    const edges = this.apps.filter((a) => (this.topology === 'all-in-one' || a.name.startsWith('edge-')) && !a.expectedExit);
    return edges.map((a) => `mqtt://127.0.0.1:${a.app.port('MQTT')}`);
  }

  /** Processes that exited without being told to. */
  crashes(): number {
    return this.apps.filter((a) => !a.expectedExit && (a.app.child.exitCode !== null || a.app.child.signalCode !== null)).length;
  }

  async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(this.http + path, {
      method,
      headers: { authorization: `Bearer ${this.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      parsed = { raw: text };
    }
    return { status: res.status, body: parsed };
  }

  async stop(): Promise<void> {
    for (const a of this.apps) {
      a.expectedExit = true;
      await a.app.stop();
    }
    await this.db.close();
    await this.redis.close();
    await this.cleanup();
  }
}

/** What one fault's traffic saw, folded into its row. */
class Tally {
  unexpected5xx = 0;
  unavailable = 0;
  unanswered = 0;
  /** `status` 0: no answer at all. */
  status(status: number): void {
    // 503 is the documented answer while a dependency is down; any other 5xx is a defect.
    if (status === 0) this.unanswered++;
    else if (status === 503) this.unavailable++;
    else if (status >= 500) this.unexpected5xx++;
  }

  /** The row with what the fault's traffic saw, and the processes that died meanwhile. */
  settle(row: FaultRow, target: Target): FaultRow {
    return { ...row, unexpected_5xx: this.unexpected5xx, answered_503: this.unavailable, unanswered: this.unanswered, crashes: target.crashes() };
  }
}

interface Session {
  userId: string;
  issued: Issued;
  client: MqttClient;
  closedWith: number | null;
}

async function openSession(target: Target, url: string, userId: string, tally: Tally): Promise<Session | null> {
  const res = await target.call('POST', '/v1/tokens', { user_id: userId });
  tally.status(res.status);
  if (res.status !== 201) return null;
  const issued = res.body as unknown as Issued;
  const client = await connect(url, issued);
  const session: Session = { userId, issued, client, closedWith: null };
  client.on('disconnect', (packet) => (session.closedWith = packet.reasonCode ?? 0));
  client.on('close', () => (session.closedWith ??= -1));
  return session;
}

function connect(url: string, issued: Issued): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { ...issued.mqtt_credentials, protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 10_000 });
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

/** Every credential returned (and not revoked) works and is listed as active; no other is active for these users. */
async function checkCredentials(target: Target, prefix: string, returned: Issued[], row: FaultRow): Promise<void> {
  const listed = new Set<string>();
  for (let cursor: string | undefined, page = 0; page < 50; page++) {
    const res = await target.call('GET', `/v1/tokens?status=active&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (res.status !== 200) throw new Error(`GET /v1/tokens: ${res.status}`);
    for (const t of res.body['tokens'] as { token_id: string; user_id: string }[]) if (t.user_id.startsWith(prefix)) listed.add(t.token_id);
    cursor = res.body['next_cursor'] as string | undefined;
    if (!cursor) break;
  }
  const ids = new Set(returned.map((r) => r.token_id));
  for (const r of returned) {
    if (!listed.has(r.token_id)) {
      row.credentials_lost++;
      continue;
    }
    try {
      (await connect(target.mqttUrls()[0], r)).end(true);
    } catch {
      row.credentials_lost++;
    }
  }
  for (const id of listed) if (!ids.has(id)) row.credentials_unreturned++;
}

/** Revocations acknowledged (204) close their sessions (0x98) within seconds, whatever the fault did. */
async function checkRevocations(acked: Session[], row: FaultRow): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && acked.some((s) => s.closedWith === null)) await sleep(100);
  row.revocations_lost += acked.filter((s) => s.closedWith !== 0x98).length;
}

type Fault = 'postgres_stall' | 'postgres_cut' | 'redis_cut';

/** Sessions open, then the fault, with issuance and revocation traffic during it, then the checks. */
async function dependencyFault(target: Target, fault: Fault, o: CampaignOptions): Promise<FaultRow> {
  const row = emptyRow(target.topology, fault);
  const tally = new Tally();
  const prefix = `chaos_${fault}_${Date.now().toString(36)}_`;
  const urls = target.mqttUrls();
  const sessions = (
    await Promise.all(Array.from({ length: o.users }, (_, i) => openSession(target, urls[i % urls.length], `${prefix}s${i}`, tally)))
  ).filter((s): s is Session => s !== null);
  row.sessions = sessions.length;
  const returned = sessions.map((s) => s.issued);

  const proxy = fault === 'redis_cut' ? target.redis : target.db;
  if (fault === 'postgres_stall') proxy.stall();
  else proxy.cut();
  row.injected = 1;
  const half = Math.floor(sessions.length / 2);
  const revoking = sessions.slice(0, half);
  const acked: Session[] = [];
  const traffic = [
    ...revoking.map(async (s) => {
      const res = await target.call('DELETE', `/v1/tokens/${s.issued.token_id}`).catch(() => ({ status: 0, body: {} }));
      tally.status(res.status);
      if (res.status === 204) acked.push(s);
    }),
    ...Array.from({ length: o.users }, async (_, i) => {
      const res = await target.call('POST', '/v1/tokens', { user_id: `${prefix}n${i}` }).catch(() => ({ status: 0, body: {} }));
      tally.status(res.status);
      if (res.status === 201) returned.push(res.body as unknown as Issued);
    }),
  ];
  // A stall lasts past the default statement and pool deadlines (5 s, 3 s), so their 503s are what is tested.
  await sleep(fault === 'postgres_stall' ? Math.max(o.faultMs, STALL_MS) : o.faultMs);
  proxy.restore();
  await Promise.all(traffic);

  // Revocations not acknowledged during the fault are made again now, as a client would retry them.
  for (const s of revoking) {
    if (acked.includes(s)) continue;
    const res = await target.call('DELETE', `/v1/tokens/${s.issued.token_id}`);
    tally.status(res.status);
    if (res.status === 204) acked.push(s);
  }
  await checkRevocations(acked, row);
  // A fault in a dependency does not cut live MQTT sessions that nobody revoked.
  row.sessions_cut_wrongly += cutCount(sessions.slice(half));
  const revokedIds = new Set(acked.map((s) => s.issued.token_id));
  await checkCredentials(target, prefix, returned.filter((r) => !revokedIds.has(r.token_id)), row);
  for (const s of sessions) s.client.end(true);
  return tally.settle(row, target);
}

/** Sessions of `sessions` closed meanwhile (nobody revoked them). */
const cutCount = (sessions: readonly Session[]): number => sessions.filter((s) => s.closedWith !== null).length;

async function openSessions(target: Target, url: string, prefix: string, count: number, tally: Tally): Promise<Session[]> {
  const opened = await Promise.all(Array.from({ length: count }, (_, i) => openSession(target, url, `${prefix}${i}`, tally)));
  return opened.filter((s): s is Session => s !== null);
}

/** Revoked tokens are refused and the others accepted at `url` (a replacement edge, or the restarted all-in-one). */
async function checkAfterRestart(url: string, sessions: readonly Session[], revoked: readonly Session[], row: FaultRow): Promise<void> {
  for (const s of sessions) {
    s.client.end(true);
    const accepted = await connect(url, s.issued).then(
      (c) => (c.end(true), true),
      () => false,
    );
    if (revoked.includes(s) ? accepted : !accepted) row[revoked.includes(s) ? 'revocations_lost' : 'credentials_lost']++;
  }
}

/**
 * An edge SIGKILLed with sessions on it. Split: one of two edges; half the tokens are revoked while it is
 * down, the other edge's sessions must stay up, and a replacement refuses the revoked tokens. All-in-one:
 * the edge is the process itself (API, edge and bus publisher in one), so "edge killed" is the whole
 * process SIGKILLed and started again on the same PostgreSQL and Redis: half the tokens are revoked just
 * before the kill (acknowledged 204s), and the restarted process must refuse them and accept the rest.
 * Every session on the killed process is cut by the fault itself (`cut_by_fault`).
 */
async function edgeKilled(target: Target, o: CampaignOptions): Promise<FaultRow> {
  const row = emptyRow(target.topology, 'edge_killed');
  const tally = new Tally();
  const prefix = `chaos_edge_${Date.now().toString(36)}_`;
  const split = target.topology === 'split';
  const victim = target.apps.find((a) => a.name === (split ? 'edge-2' : 'signet') && !a.expectedExit)!;
  const url = `mqtt://127.0.0.1:${victim.app.port('MQTT')}`;
  const sessions = await openSessions(target, url, prefix, o.users, tally);
  const bystanders = split ? await openSessions(target, `mqtt://127.0.0.1:${target.apps.find((a) => a.name === 'edge-1')!.app.port('MQTT')}`, `${prefix}b`, o.users, tally) : [];
  row.sessions = sessions.length + bystanders.length;
  const revoked = sessions.slice(0, Math.floor(sessions.length / 2));
  // All-in-one: the revokes are acknowledged by the process that is then killed.
  if (!split) for (const s of revoked) tally.status((await target.call('DELETE', `/v1/tokens/${s.issued.token_id}`)).status);
  victim.expectedExit = true;
  await victim.app.stop('SIGKILL');
  row.injected = 1;
  if (split) for (const s of revoked) tally.status((await target.call('DELETE', `/v1/tokens/${s.issued.token_id}`)).status);
  const replacement = split ? await target.startEdge('edge-2b') : await target.restartAllInOne();
  await sleep(500);
  row.cut_by_fault = cutCount(sessions);
  row.sessions_cut_wrongly += cutCount(bystanders);
  await checkAfterRestart(`mqtt://127.0.0.1:${replacement.port('MQTT')}`, sessions, revoked, row);
  for (const s of bystanders) s.client.end(true);
  return tally.settle(row, target);
}

/**
 * A subscriber that stops reading while messages for it keep coming: the edge cuts it (DISCONNECT 0x97)
 * once its write buffer stays above SIGNET_MQTT_MAX_WRITE_BUFFER_BYTES past the grace, and nothing else:
 * its publisher and the other sessions stay up.
 */
async function slowConsumer(target: Target, o: CampaignOptions): Promise<FaultRow> {
  const row = emptyRow(target.topology, 'slow_consumer');
  const tally = new Tally();
  const prefix = `chaos_slow_${Date.now().toString(36)}_`;
  const url = target.mqttUrls()[0];
  const bystanders = await openSessions(target, url, `${prefix}b`, o.users, tally);
  const slow = await openSession(target, url, `${prefix}slow`, tally);
  const publisher = await openSession(target, url, `${prefix}slow`, tally);
  if (slow === null || publisher === null) throw new Error('slow_consumer: could not open its sessions');
  row.sessions = bystanders.length + 2;
  const topic = `users/${slow.userId}/flood`;
  await slow.client.subscribeAsync(topic, { qos: 0 });
  // It stops reading: what the edge sends piles up in the socket buffers, then in the edge's write buffer.
  const stream = (slow.client as unknown as { stream: { pause(): void; resume(): void } }).stream;
  stream.pause();
  row.injected = 1;
  const payload = Buffer.alloc(64 * 1024, 0x61);
  // About 12 MB/s for 3 s: far past the kernel's socket buffers and the edge's limits.
  const floodUntil = Date.now() + 3000;
  while (Date.now() < floodUntil && publisher.closedWith === null) {
    for (let i = 0; i < 4; i++) publisher.client.publish(topic, payload, { qos: 0 });
    await sleep(20);
  }
  await sleep(1500); // past the grace
  // Reading again, it finds what the edge sent before cutting it, then the end of the connection.
  stream.resume();
  const deadline = Date.now() + 15_000;
  while (slow.closedWith === null && Date.now() < deadline) await sleep(100);
  row.cut_by_fault = slow.closedWith !== null ? 1 : 0;
  row.sessions_cut_wrongly += cutCount([publisher, ...bystanders]);
  for (const s of [slow, publisher, ...bystanders]) s.client.end(true);
  return tally.settle(row, target);
}

/** Floods of forged credentials and malformed HTTP: refused, nothing crashes, no 5xx. */
async function floods(target: Target, o: CampaignOptions): Promise<FaultRow> {
  const row = emptyRow(target.topology, 'floods');
  const tally = new Tally();
  const url = target.mqttUrls()[0];
  const bystanders = await openSessions(target, url, `chaos_flood_${Date.now().toString(36)}_`, o.users, tally);
  row.sessions = bystanders.length;
  const forged = Array.from({ length: o.users * 5 }, (_, i) =>
    connect(url, { token_id: '', mqtt_credentials: { username: `u${i}@org_aaaaaaaaaaaa`, password: `tkn_${'x'.repeat(40)}${i}` } }).then(
      (c) => (c.end(true), 1),
      () => 0,
    ),
  );
  const accepted = (await Promise.all(forged)).reduce((a: number, b) => a + b, 0);
  row.credentials_unreturned += accepted; // a forged credential that connects is one nobody was given
  const garbage: [string, RequestInit][] = [
    ['/v1/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user_id":' }],
    ['/v1/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user_id":null,"permissions":null}' }],
    ['/v1/tokens', { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-16' }, body: '{}' }],
    [`/v1/tokens/${'%'.repeat(3000)}`, { method: 'DELETE' }],
    ['/v1/keys', { method: 'POST', headers: { 'content-type': 'application/json', 'x-big': 'a'.repeat(20_000) }, body: '{}' }],
  ];
  for (let round = 0; round < o.users; round++) {
    for (const [path, init] of garbage) {
      const res = await fetch(target.http + path, {
        ...init,
        headers: { authorization: `Bearer ${target.apiKey}`, ...(init.headers as Record<string, string>) },
      }).catch(() => null);
      if (res !== null) {
        tally.status(res.status);
        await res.arrayBuffer();
      }
      row.injected++;
    }
  }
  row.sessions_cut_wrongly += cutCount(bystanders);
  for (const s of bystanders) s.client.end(true);
  return tally.settle(row, target);
}

function emptyRow(topology: Topology, fault: string): FaultRow {
  return { topology, fault, injected: 0, sessions: 0, answered_503: 0, cut_by_fault: 0, sessions_cut_wrongly: 0, revocations_lost: 0, credentials_lost: 0, credentials_unreturned: 0, unexpected_5xx: 0, unanswered: 0, crashes: 0 };
}

/** Runs every fault against one topology, in order, on one fresh deployment. */
export async function runCampaign(o: CampaignOptions): Promise<FaultRow[]> {
  const log = o.log ?? (() => undefined);
  log(`chaos: starting ${o.topology} on PostgreSQL and Redis behind proxies`);
  const target = await Target.start(o.topology);
  const rows: FaultRow[] = [];
  try {
    for (const fault of ['postgres_stall', 'postgres_cut', 'redis_cut'] as const) {
      log(`chaos: ${o.topology}: ${fault} (${fault === 'postgres_stall' ? Math.max(o.faultMs, STALL_MS) : o.faultMs} ms, ${o.users} sessions)`);
      rows.push(await dependencyFault(target, fault, o));
      // Let pools and the bus reconnect before the next fault.
      await sleep(1500);
    }
    log(`chaos: ${o.topology}: slow_consumer`);
    rows.push(await slowConsumer(target, o));
    log(`chaos: ${o.topology}: edge_killed (${o.topology === 'split' ? 'one edge of two' : 'the all-in-one process itself'}, SIGKILL)`);
    rows.push(await edgeKilled(target, o));
    log(`chaos: ${o.topology}: floods`);
    rows.push(await floods(target, o));
  } finally {
    await target.stop();
  }
  return rows;
}

/** The table the campaign prints. */
export function formatTable(rows: readonly FaultRow[]): string {
  const columns = ['topology', 'fault', 'injected', 'sessions', 'answered_503', 'cut_by_fault', ...ZERO_COLUMNS] as const;
  const cells = [columns.map((c) => c as string), ...rows.map((r) => columns.map((c) => String(r[c])))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(cells[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}
