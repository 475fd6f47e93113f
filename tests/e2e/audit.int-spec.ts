/**
 * The audit log over the real all-in-one (PostgreSQL + Redis) and real MQTT clients: administrative
 * calls recorded once for every controller (who, what, target, outcome with the problem code, from
 * where), CONNECT decisions with their reason codes and durations, a flood of refused CONNECTs kept
 * to a bounded number of rows that still count every decision, filters, keyset paging, both export
 * formats, who may read, and a standalone mqtt-edge whose decisions reach the token service's log
 * through Redis.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import mqttPacket from 'mqtt-packet';
import { Webhook } from 'standardwebhooks';
import type { DataSource } from 'typeorm';

import { AuditRetentionJob, type AuditEventDto } from '@signet/audit';
import { DATA_SOURCE } from '@signet/persistence';
import type { SignetProcess } from '@signet/runtime';
import { createTestDatabase, deleteRedisKeys, redisUrl, uniquePrefix, waitFor } from '@signet/testing';

import { TokenApi } from '../support/api';
import { brokerUrl, connect, refusalCode } from '../support/mqtt';
import { Backend, realBackend, startSignet, testEnv } from '../support/signet';
import { ROOT, SpawnedApp } from '../support/spawn';

jest.setTimeout(240_000);

const WINDOW_MS = 2000;
const PER_ADDRESS = 10;
const FLOOD = 2000;
/** SIGNET_REQUEST_TIMEOUT_MS of the all-in-one: an export may stream for longer. */
const REQUEST_TIMEOUT_MS = 4000;

let backend: Backend;
let signet: SignetProcess;
let api: TokenApi;
let base: string;
let mqttUrl: string;
let bootstrapKey: string;
let bootstrapKeyId: string;
let orgId: string;

interface Page {
  events: AuditEventDto[];
  next_cursor: string | null;
}

const query = (params: Record<string, string | number>) => `?${new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]))}`;
const list = async (params: Record<string, string | number>, client: TokenApi = api): Promise<Page> => {
  const res = await client.call('GET', `/v1/audit${query(params)}`);
  if (res.status !== 200) throw new Error(`GET /v1/audit ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as unknown as Page;
};
const exportText = async (params: Record<string, string>, bearer: string, from = base): Promise<Response> =>
  fetch(`${from}/v1/audit/export${query(params)}`, { headers: { authorization: `Bearer ${bearer}` } });
const ndjson = (text: string): AuditEventDto[] => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AuditEventDto);
/** The events of a filter once it has `count` (the recorder writes in batches after the call). */
const eventually = (params: Record<string, string | number>, count = 1, client: TokenApi = api) =>
  waitFor(async () => {
    const page = await list({ ...params, limit: 200 }, client);
    return page.events.length >= count ? page.events : null;
  }, { timeoutMs: 15_000, message: `audit events for ${JSON.stringify(params)}` });

beforeAll(async () => {
  backend = await realBackend('audit');
  signet = await startSignet(backend, {
    SIGNET_AUDIT_FLUSH_MS: '50',
    SIGNET_AUDIT_AUTH_WINDOW_MS: String(WINDOW_MS),
    SIGNET_AUDIT_AUTH_PER_ADDRESS: String(PER_ADDRESS),
    // The API sees the address the proxy in front tells it (X-Forwarded-For from 127.0.0.1).
    SIGNET_TRUSTED_PROXIES: '127.0.0.1',
    SIGNET_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
  });
  const bootstrap = signet.service!.bootstrap! as { apiKey: string; orgId: string; keyId?: string };
  bootstrapKey = bootstrap.apiKey;
  bootstrapKeyId = bootstrap.keyId!;
  orgId = bootstrap.orgId;
  base = `http://127.0.0.1:${signet.ports.http}`;
  api = new TokenApi(base, bootstrap.apiKey);
  mqttUrl = brokerUrl({ mqttPort: signet.ports.mqtt!, wsPort: signet.ports.ws! }, 'tcp');
});

afterAll(async () => {
  await signet?.close();
  await backend?.cleanup();
});

describe('administrative actions', () => {
  it('records the first start, a key created and a token revoked: actor, action, target, address, request id', async () => {
    const [bootstrap] = await eventually({ action: 'bootstrap' });
    expect(bootstrap).toMatchObject({ type: 'admin', actor: { kind: 'system', id: null }, target: orgId, outcome: 'success', details: { key_id: bootstrapKeyId, signup_code_issued: true } });

    const created = await api.call('POST', '/v1/keys', { name: 'audited', type: 'restricted', scopes: ['tokens:read'] }, { headers: { 'x-forwarded-for': '203.0.113.7', 'x-request-id': 'req-audit-1' } });
    expect(created.status).toBe(201);
    const token = await api.issue({ user_id: 'revoked-user' });
    expect((await api.call('DELETE', `/v1/tokens/${token.token_id}`)).status).toBe(204);

    const [create] = await eventually({ action: 'keys.create' });
    expect(create).toMatchObject({
      type: 'admin',
      actor: { kind: 'api_key', id: bootstrapKeyId },
      action: 'keys.create',
      target: created.body['id'],
      outcome: 'success',
      address: '203.0.113.7',
      reason_code: null,
      request_id: 'req-audit-1',
      edge_id: null,
      details: { method: 'POST', route: '/v1/keys', status: 201, role: 'secret' },
    });
    expect(typeof create.duration_ms).toBe('number');
    // Ids only: the key shown once is not in the log.
    expect(JSON.stringify(create)).not.toContain(String(created.body['key']));

    const [revoke] = await eventually({ action: 'tokens.revoke' });
    expect(revoke).toMatchObject({ actor: { kind: 'api_key', id: bootstrapKeyId }, target: token.token_id, outcome: 'success', address: '127.0.0.1', details: { status: 204 } });
    expect(revoke.request_id).toMatch(/^req_[0-9a-f]{16}$/);
    const [issued] = await eventually({ action: 'tokens.create' });
    expect(issued.target).toBe(token.token_id);
    expect(JSON.stringify(issued)).not.toContain(token.mqtt_credentials.password);
    expect(JSON.stringify(issued)).not.toContain(token.refresh_token);
  });

  it('records a failed call with its status and problem code, and names a restricted key refused for its scope', async () => {
    expect((await api.call('POST', '/v1/keys', { name: 'x', type: 'bogus' })).status).toBe(400);
    const restricted = await api.call('POST', '/v1/keys', { name: 'reader', type: 'restricted', scopes: ['tokens:read'] });
    const reader = api.withKey(String(restricted.body['key']));
    const refused = await reader.call('DELETE', '/v1/keys/key_doesnotmatter');
    expect(refused).toMatchObject({ status: 403, body: { code: 'insufficient_scope' } });

    const failures = await eventually({ outcome: 'failure', type: 'admin' }, 2);
    expect(failures.find((e) => e.action === 'keys.create')).toMatchObject({ actor: { id: bootstrapKeyId }, reason_code: 'validation_failed', details: { status: 400 } });
    expect(failures.find((e) => e.action === 'keys.revoke')).toMatchObject({
      actor: { kind: 'api_key', id: restricted.body['id'] },
      target: 'key_doesnotmatter',
      reason_code: 'insufficient_scope',
      details: { status: 403, role: 'restricted' },
    });
    // A call nobody authenticated is not filed under an org.
    await new TokenApi(base, 'sk_not_a_key').call('POST', '/v1/keys', { name: 'x', type: 'secret' });
    const all = await exportText({ type: 'admin' }, bootstrapKey);
    expect(ndjson(await all.text()).filter((e) => e.details?.['status'] === 401)).toEqual([]);
  });
});

describe('CONNECT decisions', () => {
  it('records a real CONNECT allowed and one refused for a bad password, with reason codes and durations', async () => {
    const creds = await api.issue({ user_id: 'mqtt-alice' });
    const client = await connect(mqttUrl, { ...creds.mqtt_credentials, protocolVersion: 5, clientId: 'alice-1' });
    client.end(true);
    expect(await refusalCode(mqttUrl, { username: creds.mqtt_credentials.username, password: 'tkn_not-a-token', protocolVersion: 5, clientId: 'alice-2' })).toBe(0x86);

    const events = await eventually({ type: 'auth', actor_id: 'mqtt-alice' }, 2);
    const allowed = events.find((e) => e.outcome === 'success')!;
    const refused = events.find((e) => e.outcome === 'failure')!;
    expect(allowed).toMatchObject({
      type: 'auth',
      actor: { kind: 'token', id: 'mqtt-alice' },
      action: 'mqtt.connect',
      target: creds.token_id,
      address: '127.0.0.1',
      reason_code: 'success',
      details: { username: creds.mqtt_credentials.username, client_id: 'alice-1', step: 'token', connack: 0, protocol_version: 5, transport: 'tcp' },
    });
    expect(refused).toMatchObject({
      actor: { kind: 'unknown', id: 'mqtt-alice' },
      target: null,
      reason_code: 'bad_credentials',
      details: { client_id: 'alice-2', step: 'token', connack: 0x86 },
    });
    for (const e of [allowed, refused]) {
      expect(e.edge_id).toEqual(expect.any(String));
      expect(e.duration_ms).toBeGreaterThanOrEqual(0);
    }
    // The password is never recorded.
    expect(JSON.stringify(events)).not.toContain(creds.mqtt_credentials.password);
  });

  it('keeps a flood of refused CONNECTs from one address to a bounded number of rows that count every one', async () => {
    const username = `flood-user@${orgId}`;
    const packet = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: '', clean: true, keepalive: 0, username, password: Buffer.from('tkn_guess') });
    const refuseOnce = () =>
      new Promise<void>((resolve) => {
        const socket = tcpConnect(signet.ports.mqtt!, '127.0.0.1', () => socket.write(packet));
        socket.once('data', () => socket.destroy());
        socket.once('close', () => resolve());
        socket.once('error', () => resolve());
      });
    const started = Date.now();
    let sent = 0;
    await Promise.all(Array.from({ length: 25 }, async () => {
      while (sent < FLOOD) {
        sent++;
        await refuseOnce();
      }
    }));
    const elapsed = Date.now() - started;

    const rows = await waitFor(async () => {
      const res = await exportText({ type: 'auth', actor_id: 'flood-user' }, bootstrapKey);
      const events = ndjson(await res.text());
      const total = events.reduce((n, e) => n + Number(e.details?.['count'] ?? 1), 0);
      return total >= FLOOD ? events : null;
    }, { timeoutMs: 30_000, message: 'every refused CONNECT counted' });
    const total = rows.reduce((n, e) => n + Number(e.details?.['count'] ?? 1), 0);
    expect(total).toBe(FLOOD);
    // Per window: PER_ADDRESS rows one by one and one aggregated row; the flood spans this many windows at most.
    const windows = Math.floor(elapsed / WINDOW_MS) + 2;
    expect(rows.length).toBeLessThanOrEqual((PER_ADDRESS + 1) * windows);
    expect(rows.length).toBeLessThan(FLOOD / 10);
    const aggregated = rows.filter((e) => e.details?.['count'] !== undefined);
    expect(aggregated.length).toBeGreaterThan(0);
    expect(aggregated[0]).toMatchObject({ outcome: 'failure', reason_code: 'bad_credentials', address: '127.0.0.1', details: { connack: 4 } });
    expect(rows.every((e) => e.outcome === 'failure')).toBe(true);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^signet_audit_written_total\{sink="database"\} \d+/m);
  });
});

describe('reading the log', () => {
  it('filters by type, action, outcome and time, and pages with a keyset cursor', async () => {
    const all = ndjson(await (await exportText({ type: 'admin' }, bootstrapKey)).text());
    expect(all.length).toBeGreaterThanOrEqual(6);
    const seen: AuditEventDto[] = [];
    let cursor: string | null = null;
    do {
      const page: Page = await list({ type: 'admin', limit: 2, ...(cursor ? { cursor } : {}) });
      expect(page.events.length).toBeLessThanOrEqual(2);
      seen.push(...page.events);
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen.map((e) => e.id)).toEqual(all.map((e) => e.id));
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    const times = seen.map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    expect((await list({ type: 'auth', limit: 200 })).events.every((e) => e.type === 'auth')).toBe(true);
    expect((await list({ action: 'keys.create' })).events.every((e) => e.action === 'keys.create')).toBe(true);
    const failures = (await list({ outcome: 'failure', type: 'admin' })).events;
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.every((e) => e.outcome === 'failure')).toBe(true);
    expect((await list({ actor_id: bootstrapKeyId })).events.every((e) => e.actor.id === bootstrapKeyId)).toBe(true);
    const oldest = all[all.length - 1];
    expect((await list({ until: oldest.at, type: 'admin' })).events).toEqual([]);
    expect((await list({ since: new Date(Date.now() + 60_000).toISOString() })).events).toEqual([]);
    const since = (await list({ since: oldest.at, type: 'admin', limit: 200 })).events;
    expect(since.map((e) => e.id)).toContain(oldest.id);
  });

  it('exports every match as NDJSON and as CSV', async () => {
    const key = bootstrapKey;
    const json = await exportText({ type: 'admin', format: 'ndjson' }, key);
    expect(json.status).toBe(200);
    expect(json.headers.get('content-type')).toContain('application/x-ndjson');
    const events = ndjson(await json.text());
    const csv = await exportText({ type: 'admin', format: 'csv' }, key);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (await csv.text()).split('\r\n').filter((l) => l !== '');
    expect(lines[0]).toBe('id,at,type,actor_kind,actor_id,action,target,outcome,address,edge_id,reason_code,duration_ms,request_id,details');
    expect(lines.length).toBe(events.length + 1);
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(events.map((e) => e.id));
    const create = lines.find((l) => l.includes(',keys.create,') && l.includes('203.0.113.7'))!;
    expect(create).toContain(`,api_key,${bootstrapKeyId},keys.create,`);
  });

  it('streams an export that outlasts the request deadline to its end, as slowly as the client reads', async () => {
    const dataSource = signet.service!.app.get<DataSource>(DATA_SOURCE);
    const ROWS = 30_000;
    await dataSource.query(
      `INSERT INTO audit_events (id, org_id, at, type, actor_kind, actor_id, action, outcome, details)
       SELECT 'aud_bulk' || lpad(i::text, 8, '0'), $1, now() - i * interval '1 ms', 'auth', 'token', 'bulk-user', 'mqtt.connect', 'success', jsonb_build_object('pad', repeat('x', 200))
       FROM generate_series(1, $2) AS i`,
      [orgId, ROWS],
    );
    const res = await exportText({ actor_id: 'bulk-user' }, bootstrapKey);
    const reader = res.body!.getReader();
    const chunks: Uint8Array[] = [];
    const first = await reader.read();
    chunks.push(first.value!);
    // Past the deadline with most of the export still to send: its 503 must not cut or corrupt the stream.
    await new Promise((r) => setTimeout(r, REQUEST_TIMEOUT_MS + 1000));
    for (let next = await reader.read(); !next.done; next = await reader.read()) chunks.push(next.value);
    const events = ndjson(Buffer.concat(chunks).toString('utf8'));
    expect(events).toHaveLength(ROWS);
    expect(events[0].id).toBe('aud_bulk00000001');
    expect(events[ROWS - 1].id).toBe(`aud_bulk${String(ROWS).padStart(8, '0')}`);
  });

  it('lets owners, admins and keys with audit:read read; refuses viewers, other keys and bad filters with problems', async () => {
    const dataSource = signet.service!.app.get<DataSource>(DATA_SOURCE);
    const session = async (username: string, role: string): Promise<string> => {
      const account = await api.call('POST', '/v1/accounts', { username, role, password: 'long enough password 1' });
      expect(account.status).toBe(201);
      // The access token as the authorization server stores it after a sign-in (the browser flow is sign-in.int-spec's).
      const jti = randomBytes(32).toString('base64url');
      const exp = Math.floor(Date.now() / 1000) + 600;
      await dataSource.query(`INSERT INTO oidc_payloads (kind, id, payload, expires_at) VALUES ('AccessToken', $1, $2, now() + interval '10 minutes')`, [
        jti,
        JSON.stringify({ jti, exp, accountId: account.body['account_id'], clientId: 'signet-cli', kind: 'AccessToken' }),
      ]);
      return jti;
    };
    const viewer = await session('vera', 'viewer');
    const admin = await session('adam', 'admin');

    for (const path of ['/v1/audit', '/v1/audit/export']) {
      const refused = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${viewer}` } });
      expect(refused.status).toBe(403);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(await refused.json()).toMatchObject({ code: 'insufficient_scope' });
    }
    expect((await list({ type: 'admin' }, new TokenApi(base, admin))).events.length).toBeGreaterThan(0);

    // Calls by people are recorded with the account and its role, refusals included.
    const byAdmin = await new TokenApi(base, admin).call('POST', '/v1/keys', { name: 'by-adam', type: 'secret' });
    expect(byAdmin.status).toBe(201);
    expect((await new TokenApi(base, viewer).call('POST', '/v1/keys', { name: 'by-vera', type: 'secret' })).status).toBe(403);
    const people = await waitFor(async () => {
      const events = (await list({ action: 'keys.create', limit: 200 })).events.filter((e) => e.actor.kind === 'account');
      return events.some((e) => e.outcome === 'success') && events.some((e) => e.outcome === 'failure') ? events : null;
    }, { timeoutMs: 15_000, message: "the people's calls in the log" });
    expect(people.find((e) => e.outcome === 'success')).toMatchObject({ target: byAdmin.body['id'], details: { role: 'admin', status: 201 } });
    expect(people.find((e) => e.outcome === 'failure')).toMatchObject({ reason_code: 'insufficient_scope', details: { role: 'viewer', status: 403 } });
    expect(new Set(people.map((e) => e.actor.id)).size).toBe(2);

    const noScope = await api.call('POST', '/v1/keys', { name: 'no-audit', type: 'restricted', scopes: ['tokens:read'] });
    expect((await api.withKey(String(noScope.body['key'])).call('GET', '/v1/audit')).body).toMatchObject({ code: 'insufficient_scope' });
    const auditor = await api.call('POST', '/v1/keys', { name: 'auditor', type: 'restricted', scopes: ['audit:read'] });
    expect((await api.withKey(String(auditor.body['key'])).call('GET', '/v1/audit')).status).toBe(200);

    const bad: Array<[string, string]> = [
      ['?type=bogus', 'validation_failed'],
      ['?outcome=maybe', 'validation_failed'],
      ['?since=yesterday', 'validation_failed'],
      ['?limit=0', 'validation_failed'],
      ['?limit=abc', 'validation_failed'],
      ['?cursor=not-a-cursor', 'invalid_cursor'],
      ['?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z', 'invalid_time_range'],
      ['/export?format=xml', 'validation_failed'],
    ];
    for (const [suffix, code] of bad) {
      const path = `/v1/audit${suffix}`;
      const res = await api.call('GET', path);
      expect({ path, status: res.status, code: res.body['code'], type: res.contentType }).toEqual({ path, status: 400, code, type: expect.stringContaining('application/problem+json') });
    }
  });
});

describe('signet audit (the CLI)', () => {
  let home: string;
  beforeAll(async () => (home = await mkdtemp(join(tmpdir(), 'signet-audit-cli-'))));
  afterAll(() => rm(home, { recursive: true, force: true }));

  const signet = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [join(ROOT, 'bin', 'signet.js'), ...args], { env: { PATH: process.env['PATH'], HOME: home, SIGNET_CONFIG_DIR: home, SIGNET_SERVER: base, SIGNET_TOKEN: bootstrapKey } }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );

  it('lists with filters (--json and a table), exports NDJSON and CSV to stdout, and exits 1 or 2 on refusals', async () => {
    const json = await signet(['audit', '--type', 'admin', '--action', 'keys.create', '--since', '1h', '--json']);
    expect(json.code).toBe(0);
    const page = JSON.parse(json.stdout) as Page;
    expect(page.events.length).toBeGreaterThan(0);
    expect(page.events.every((e) => e.action === 'keys.create')).toBe(true);

    const table = await signet(['audit', 'list', '--type', 'auth', '--actor', 'mqtt-alice']);
    expect(table.code).toBe(0);
    const [head, ...rows] = table.stdout.trim().split('\n');
    expect(head.split('\t').slice(0, 8)).toEqual(['at', 'type', 'actor', 'action', 'target', 'outcome', 'reason', 'address']);
    expect(rows.some((r) => r.includes('\tmqtt.connect\t') && r.includes('\tbad_credentials\t'))).toBe(true);

    const exported = await signet(['audit', 'export', '--type', 'admin', '--format', 'ndjson']);
    expect(exported.code).toBe(0);
    const viaApi = ndjson(await (await exportText({ type: 'admin' }, bootstrapKey)).text());
    expect(ndjson(exported.stdout).map((e) => e.id)).toEqual(viaApi.map((e) => e.id));
    const csv = await signet(['audit', 'export', '--format', 'csv', '--outcome', 'failure']);
    expect(csv.stdout.split('\r\n')[0]).toMatch(/^id,at,type,actor_kind,/);

    const usage = await signet(['audit', '--since', 'last tuesday']);
    expect(usage.code).toBe(2);
    const bad = await signet(['audit', 'export', '--since', '1h', '--until', '2h']);
    expect(bad).toMatchObject({ code: 1, stderr: expect.stringContaining('invalid_time_range') });
  });
});

describe('a standalone mqtt-edge (split deployment, no database)', () => {
  let db: { url: string; drop(): Promise<void> };
  let tokenService: SpawnedApp;
  let edge: SpawnedApp;
  const prefix = uniquePrefix('audit-split');

  afterAll(async () => {
    await edge?.stop();
    await tokenService?.stop();
    await db?.drop();
    await deleteRedisKeys(prefix);
  });

  it("sends its decisions through Redis into the token service's log", async () => {
    db = await createTestDatabase('signet_audit_split');
    const shared = { REDIS_URL: redisUrl(), SIGNET_REDIS_PREFIX: prefix, SIGNET_AUDIT_FLUSH_MS: '50', SIGNET_LOG_LEVEL: 'warn' };
    tokenService = SpawnedApp.start('token-service', testEnv({ ...shared, DATABASE_URL: db.url, SIGNET_MASTER_KEY: randomBytes(32).toString('base64') }));
    await tokenService.ready();
    const key = /^(sk_\S+)$/m.exec(tokenService.stdout)![1];
    const split = new TokenApi(`http://127.0.0.1:${tokenService.port('HTTP API')}`, key);
    edge = SpawnedApp.start('mqtt-edge', testEnv({ ...shared, SIGNET_EDGE_ID: 'audit-edge-1', SIGNET_TOKEN_SERVICE_GRPC: `127.0.0.1:${tokenService.port('gRPC')}` }));
    await edge.ready();
    const url = brokerUrl({ mqttPort: edge.port('MQTT'), wsPort: edge.port('WebSocket') }, 'tcp');

    const creds = await split.issue({ user_id: 'edge-bob' });
    const client = await waitFor(() => connect(url, { ...creds.mqtt_credentials, protocolVersion: 5 }).catch(() => null), { timeoutMs: 15_000, message: 'the edge accepting the token' });
    client.end(true);
    expect(await refusalCode(url, { username: creds.mqtt_credentials.username, password: 'tkn_wrong', protocolVersion: 4 })).toBe(4);

    const events = await eventually({ type: 'auth', actor_id: 'edge-bob' }, 2, split);
    expect(events.every((e) => e.edge_id === 'audit-edge-1')).toBe(true);
    expect(events.find((e) => e.outcome === 'success')).toMatchObject({ target: creds.token_id, reason_code: 'success' });
    expect(events.find((e) => e.outcome === 'failure')).toMatchObject({ reason_code: 'bad_credentials', details: { connack: 4, protocol_version: 4 } });
    // The edge counts what it handed to Redis.
    expect(await (await fetch(`http://127.0.0.1:${edge.port('HTTP API')}/metrics`)).text()).toMatch(/^signet_audit_written_total\{sink="redis"\} [1-9]/m);
  });
});

// Last: an org with a directory refuses tokens for users it does not know.
describe('events that are not API calls', () => {
  it('records an IdP event where it is applied, with the provider as actor', async () => {
    const provider = await api.call('POST', '/v1/idp-providers', { kind: 'supabase', project_url: 'https://abcdefghijklmnop.supabase.co' });
    expect(provider.status).toBe(201);
    const providerId = String(provider.body['id']);
    const secret = String((await api.call('POST', `/v1/idp-providers/${providerId}/events-secret`)).body['events_secret']);
    const body = JSON.stringify({ type: 'user.revoked', sub: 'idp-user-1' });
    const at = new Date();
    const headers = { 'webhook-id': 'msg_audit_1', 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign('msg_audit_1', at, body) };
    expect((await new TokenApi(base).call('POST', `/v1/idp-events/${providerId}/revoke`, undefined, { rawBody: body, headers })).status).toBe(200);

    const [event] = await eventually({ action: 'idp_events.revoke_user' });
    expect(event).toMatchObject({ type: 'admin', actor: { kind: 'idp', id: providerId }, target: 'idp-user-1', outcome: 'success', details: { source: 'signed_call', event_id: 'msg_audit_1', revoked_tokens: 0, replayed: false } });
    expect(JSON.stringify(await list({ limit: 200 }))).not.toContain(secret);
  });

  it('records a directory user deprovisioned over SCIM', async () => {
    const scimToken = String((await api.call('POST', '/v1/directory/scim-token')).body['token']);
    const scim = new TokenApi(base, scimToken);
    const scimJson = { headers: { 'content-type': 'application/scim+json' } };
    const user = await scim.call('POST', '/scim/v2/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'dana@example.com', active: true }, scimJson);
    expect(user.status).toBe(201);
    expect((await scim.call('DELETE', `/scim/v2/Users/${String(user.body['id'])}`)).status).toBe(204);

    const [event] = await eventually({ action: 'directory.deprovision' });
    expect(event).toMatchObject({ actor: { kind: 'directory', id: null }, target: 'dana@example.com', outcome: 'success', details: { revoked_tokens: 0 } });
    const [rotated] = await eventually({ action: 'directory.rotate_scim_token' });
    expect(JSON.stringify(rotated)).not.toContain(scimToken);
  });

  it('records the first account signed up with the sign-up code of the first start', async () => {
    const code = /^(su_\S+)$/m.exec(signet.banner.join('\n'))![1];
    const signedUp = await new TokenApi(base).call('POST', '/v1/accounts/sign-up', { signup_code: code, username: 'olive', password: 'long enough password 2' });
    expect(signedUp.status).toBe(201);
    const [event] = await eventually({ action: 'accounts.sign_up' });
    expect(event).toMatchObject({ actor: { kind: 'account', id: signedUp.body['account_id'] }, target: signedUp.body['account_id'], outcome: 'success', details: { role: 'owner' } });
    expect(JSON.stringify(event)).not.toContain(code);
  });

  it('deletes events past retention in bounded passes and keeps the rest', async () => {
    const dataSource = signet.service!.app.get<DataSource>(DATA_SOURCE);
    await dataSource.query(
      `INSERT INTO audit_events (id, org_id, at, type, actor_kind, action, outcome)
       SELECT 'aud_old' || i, $1, now() - interval '91 days', 'admin', 'system', 'old.event', 'success' FROM generate_series(1, 7000) AS i`,
      [orgId],
    );
    const lastDay = async () => (await list({ since: new Date(Date.now() - 86_400_000).toISOString(), limit: 200 })).events.map((e) => e.id);
    const recent = await lastDay();
    expect(recent.length).toBeGreaterThan(0);
    // 7,000 rows past 90 days: two DELETEs of at most 5,000.
    expect(await signet.service!.app.get(AuditRetentionJob).run()).toBe(7000);
    expect((await list({ action: 'old.event' })).events).toEqual([]);
    expect(await lastDay()).toEqual(recent);
  });
});
