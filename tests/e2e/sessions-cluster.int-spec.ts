/**
 * Live sessions across edges, as `kubectl apply` runs them: a token-service (the API) and two mqtt-edge
 * processes on one Redis. GET /v1/sessions lists the sessions of both edges from the registry they keep
 * beside their client-id claims; DELETE /v1/sessions/{client_id} reaches the edge that holds the client
 * (MQTT 5 DISCONNECT 0x98) and no other; a SIGKILLed edge's sessions go with its lease.
 */
import { randomBytes } from 'node:crypto';

import Redis from 'ioredis';
import type { MqttClient } from 'mqtt';

import type { SessionDto } from '@signet/sessions';
import { createTestDatabase, deleteRedisKeys, redisUrl, uniquePrefix, waitFor } from '@signet/testing';

import { TokenApi, type IssuedCredentials } from '../support/api';
import { brokerUrl, connect, serverClosed } from '../support/mqtt';
import { testEnv } from '../support/signet';
import { SpawnedApp } from '../support/spawn';

const LEASE_MS = 1500;

type Listed = SessionDto;

describe('live sessions across two mqtt-edge processes on one Redis', () => {
  let db: { url: string; drop(): Promise<void> };
  let prefix: string;
  let tokenService: SpawnedApp;
  let api: TokenApi;
  const edges: Record<'a' | 'b', { app: SpawnedApp; url: string }> = {} as never;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('signet_sessions_cluster');
    prefix = uniquePrefix('sessions-cluster');
    const shared = { REDIS_URL: redisUrl(), SIGNET_REDIS_PREFIX: prefix, SIGNET_LOG_LEVEL: 'warn' };
    tokenService = SpawnedApp.start('token-service', testEnv({ ...shared, DATABASE_URL: db.url, SIGNET_MASTER_KEY: randomBytes(32).toString('base64') }));
    await tokenService.ready();
    api = new TokenApi(`http://127.0.0.1:${tokenService.port('HTTP API')}`, /^(sk_\S+)$/m.exec(tokenService.stdout)![1]);
    for (const id of ['a', 'b'] as const) {
      const env = testEnv({
        ...shared,
        SIGNET_EDGE_ID: `edge-${id}`,
        SIGNET_EDGE_LEASE_MS: String(LEASE_MS),
        SIGNET_TOKEN_SERVICE_GRPC: `127.0.0.1:${tokenService.port('gRPC')}`,
      });
      edges[id] = { app: SpawnedApp.start('mqtt-edge', env), url: '' };
    }
    for (const edge of Object.values(edges)) {
      await edge.app.ready();
      edge.url = brokerUrl({ mqttPort: edge.app.port('MQTT'), wsPort: edge.app.port('WebSocket') }, 'tcp');
    }
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.end(true);
    for (const edge of Object.values(edges)) await edge.app?.stop();
    await tokenService?.stop();
    await deleteRedisKeys(prefix);
    await db?.drop();
  });

  const issue = (userId: string) => api.issue({ user_id: userId, permissions: { publish: ['x/{user_id}'], subscribe: ['x/{user_id}'] } });

  async function login(edge: 'a' | 'b', creds: IssuedCredentials, clientId: string, protocolVersion: 4 | 5 = 5): Promise<MqttClient> {
    const client = await connect(edges[edge].url, { ...creds.mqtt_credentials, protocolVersion, clientId, reconnectPeriod: 0 });
    clients.push(client);
    return client;
  }

  const list = async (query = ''): Promise<{ sessions: Listed[]; next_cursor: string | null }> => {
    const res = await api.call('GET', `/v1/sessions${query}`);
    expect(res.status).toBe(200);
    return res.body as unknown as { sessions: Listed[]; next_cursor: string | null };
  };

  it('lists sessions of both edges, pages and filters them, and a kick reaches only the edge that holds the client', async () => {
    const [alice, bob] = [await issue('alice'), await issue('bob')];
    const onA = await login('a', alice, 'alice-phone');
    const onB = await login('b', bob, 'bob-laptop', 4);
    const alsoA = await login('a', alice, 'alice-tablet');

    const all = await list();
    expect(all.sessions.map((s) => [s.client_id, s.edge_id, s.user_id])).toEqual([
      ['alice-phone', 'edge-a', 'alice'],
      ['alice-tablet', 'edge-a', 'alice'],
      ['bob-laptop', 'edge-b', 'bob'],
    ]);
    expect(all.next_cursor).toBeNull();
    const phone = all.sessions[0];
    expect(phone).toMatchObject({
      username: alice.mqtt_credentials.username,
      credential_kind: 'token',
      credential_id: alice.token_id,
      address: '127.0.0.1',
      transport: 'tcp',
      protocol_version: 5,
    });
    expect(Date.parse(phone.connected_at)).toBeGreaterThan(Date.now() - 60_000);
    expect(all.sessions[2].protocol_version).toBe(4);

    const first = await list('?limit=2');
    expect(first.sessions.map((s) => s.client_id)).toEqual(['alice-phone', 'alice-tablet']);
    const second = await list(`?limit=2&cursor=${first.next_cursor}`);
    expect([second.sessions.map((s) => s.client_id), second.next_cursor]).toEqual([['bob-laptop'], null]);
    expect((await list('?user_id=bob')).sessions.map((s) => s.client_id)).toEqual(['bob-laptop']);
    expect((await list('?client_id=alice-tablet')).sessions.map((s) => s.edge_id)).toEqual(['edge-a']);

    // Kicked through the API (served by the token service): the edge that holds it closes it with 0x98.
    const closed = serverClosed(onB);
    expect((await api.call('DELETE', '/v1/sessions/bob-laptop')).status).toBe(204);
    // 3.1.1 has no DISCONNECT from the server: the socket closes.
    await closed;
    const kickedOn5 = serverClosed(onA);
    expect((await api.call('DELETE', '/v1/sessions/alice-phone')).status).toBe(204);
    expect((await kickedOn5).reasonCode).toBe(0x98);
    expect(alsoA.connected).toBe(true);
    await waitFor(async () => (await list()).sessions.length === 1, { timeoutMs: 5000, message: 'kicked sessions unlisted' });
    expect((await list()).sessions.map((s) => s.client_id)).toEqual(['alice-tablet']);

    const missing = await api.call('DELETE', '/v1/sessions/bob-laptop');
    expect(missing.status).toBe(404);
    expect(missing.contentType).toContain('application/problem+json');
    expect(missing.body).toMatchObject({ code: 'session_not_found' });
    expect((await api.call('GET', '/v1/sessions?cursor=nope')).body).toMatchObject({ code: 'invalid_cursor' });
    expect((await api.call('GET', '/v1/sessions?limit=0')).status).toBe(400);
    expect((await api.withKey('sk_not_a_key').call('GET', '/v1/sessions')).status).toBe(401);
  });

  it('drops the sessions of a SIGKILLed edge once its lease has expired, and keeps the live edge', async () => {
    const carol = await issue('carol');
    await login('a', carol, 'carol-a');
    await login('b', carol, 'carol-b');
    await waitFor(async () => (await list('?user_id=carol')).sessions.length === 2, { timeoutMs: 5000, message: 'both listed' });
    await edges.b.app.stop('SIGKILL');
    await waitFor(async () => (await list('?user_id=carol')).sessions.length === 1, { timeoutMs: LEASE_MS * 4, message: "edge-b's sessions gone" });
    expect((await list('?user_id=carol')).sessions.map((s) => [s.client_id, s.edge_id])).toEqual([['carol-a', 'edge-a']]);
    expect((await api.call('DELETE', '/v1/sessions/carol-b')).status).toBe(404);
    // Past the lease the live edge reaps it from Redis too.
    const redis = new Redis(redisUrl());
    try {
      await waitFor(async () => (await redis.zscore(`${prefix}cluster:sessions:${carol.mqtt_credentials.username.split('@')[1]}`, 'carol-b')) === null, { timeoutMs: LEASE_MS * 4 });
    } finally {
      redis.disconnect();
    }
  });
});
