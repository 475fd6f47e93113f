/**
 * token-service and mqtt-edge as separate OS processes sharing one PostgreSQL
 * and one Redis. Revocation must lose nothing: an edge cut off from Redis
 * while a revoke happens catches up when it reconnects, an edge started after
 * a revoke refuses the token, and if Redis loses its data the deny state is
 * rebuilt from PostgreSQL.
 */
import { randomBytes } from 'node:crypto';

import Redis from 'ioredis';
import type { MqttClient } from 'mqtt';

import { createTestDatabase, redisUrl, TcpProxy, uniquePrefix, waitFor } from '@signet/testing';

import { TokenApi } from '../support/api';
import { brokerUrl, connect, nextMessage, credentialsRefusal, serverClosed } from '../support/mqtt';

import { testEnv } from '../support/signet';
import { SpawnedApp } from '../support/spawn';

describe('token-service and mqtt-edge as separate processes', () => {
  let db: { url: string; drop(): Promise<void> };
  let tokenService: SpawnedApp;
  const edges: SpawnedApp[] = [];
  let api: TokenApi;
  let proxy: TcpProxy;
  let prefix: string;
  let redis: Redis;
  const clients: MqttClient[] = [];
  const redisPort = Number(new URL(redisUrl()).port || 6379);
  const redisHost = new URL(redisUrl()).hostname;
  let sharedEnv: Record<string, string>;

  const startEdge = async (viaProxy: boolean) => {
    const edge = SpawnedApp.start(
      'mqtt-edge',
      testEnv({
        ...sharedEnv,
        REDIS_URL: viaProxy ? `redis://127.0.0.1:${await proxy.start()}` : redisUrl(),
        SIGNET_TOKEN_SERVICE_GRPC: `127.0.0.1:${tokenService.port('gRPC')}`,
        SIGNET_EDGE_MAX_STALENESS_MS: '60000',
      }),
    );
    edges.push(edge);
    await edge.ready();
    return { edge, url: brokerUrl({ mqttPort: edge.port('MQTT'), wsPort: edge.port('WebSocket') }, 'tcp') };
  };

  const login = async (url: string, username: string, password: string) => {
    const c = await connect(url, { username, password, protocolVersion: 5 });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    db = await createTestDatabase('signet_two_process');
    prefix = uniquePrefix('two-process');
    redis = new Redis(redisUrl());
    proxy = new TcpProxy(redisHost, redisPort);
    sharedEnv = { REDIS_URL: redisUrl(), SIGNET_REDIS_PREFIX: prefix, SIGNET_LOG_LEVEL: 'warn' };
    tokenService = SpawnedApp.start(
      'token-service',
      testEnv({ ...sharedEnv, DATABASE_URL: db.url, SIGNET_MASTER_KEY: randomBytes(32).toString('base64') }),
    );
    await tokenService.ready();
    const key = /^(sk_\S+)$/m.exec(tokenService.stdout)?.[1];
    expect(key).toBeDefined();
    api = new TokenApi(`http://127.0.0.1:${tokenService.port('HTTP API')}`, key);
  });

  afterEach(() => {
    for (const c of clients.splice(0)) c.end(true);
  });

  afterAll(async () => {
    for (const e of edges) await e.stop();
    await tokenService?.stop();
    await proxy?.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await db?.drop();
  });

  it('issues on one process and enforces on the other', async () => {
    const { url } = await startEdge(false);
    const creds = await api.issue({ user_id: 'alice' });
    const client = await login(url, creds.mqtt_credentials.username, creds.mqtt_credentials.password);
    await client.subscribeAsync('users/alice/#');
    const received = nextMessage(client);
    await client.publishAsync('users/alice/x', 'hi', { qos: 1 });
    expect((await received).payload).toBe('hi');
    const closed = serverClosed(client);
    expect((await api.call('DELETE', `/v1/tokens/${creds.token_id}`)).status).toBe(204);
    expect((await closed).reasonCode).toBe(0x98);
  });

  it('an edge cut off from Redis during a revoke closes the session when it reconnects', async () => {
    const { url } = await startEdge(true);
    const creds = await api.issue({ user_id: 'bob' });
    const client = await login(url, creds.mqtt_credentials.username, creds.mqtt_credentials.password);
    const closed = serverClosed(client);
    let isClosed = false;
    void closed.then(() => (isClosed = true));

    proxy.cut();
    expect((await api.call('DELETE', `/v1/tokens/${creds.token_id}`)).status).toBe(204);
    await new Promise((r) => setTimeout(r, 1000));
    expect(isClosed).toBe(false); // the edge cannot know yet

    proxy.restore();
    expect((await closed).reasonCode).toBe(0x98);
    expect(await credentialsRefusal(url, creds, 5)).toBe(0x86);
  });

  it('an edge started after a revoke refuses the token', async () => {
    const creds = await api.issue({ user_id: 'carol' });
    expect((await api.call('DELETE', `/v1/tokens/${creds.token_id}`)).status).toBe(204);
    const { url } = await startEdge(false);
    expect(await credentialsRefusal(url, creds, 5)).toBe(0x86);
  });

  it('rebuilds the deny state from PostgreSQL when Redis loses its data', async () => {
    const creds = await api.issue({ user_id: 'dave' });
    expect((await api.call('DELETE', `/v1/tokens/${creds.token_id}`)).status).toBe(204);
    const keys = await redis.keys(`${prefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    await redis.del(...keys);
    // The token service notices the lost epoch and republishes from PostgreSQL. Only the revocation
    // keys count: cluster heartbeats and the audit stream come back by themselves.
    const revocationKeys = () => redis.keys(`${prefix}revocations*`);
    await waitFor(async () => (await revocationKeys()).length > 0, { timeoutMs: 20000, intervalMs: 200 });
    const { url } = await startEdge(false);
    expect(await credentialsRefusal(url, creds, 5)).toBe(0x86);
  });

  it('stops cleanly on SIGTERM', async () => {
    const { edge } = await startEdge(false);
    expect(await edge.stop('SIGTERM')).toBe(0);
    expect(edge.stderr).not.toMatch(/error/i);
  });
});
