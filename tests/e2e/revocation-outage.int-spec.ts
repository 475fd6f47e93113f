/**
 * Finding 5 of issue 18: revocation while Redis is down, in the split topology (a token service and a
 * standalone edge, both reaching Redis through one TCP proxy). A revoke answers once it is committed,
 * not once the bus has it; the edge hears of it through its second path (the token service over gRPC)
 * and closes the session while Redis is still away; once Redis is back, the outbox publishes each
 * revocation to the stream once, in order.
 */
import { randomBytes } from 'node:crypto';

import Redis from 'ioredis';
import type { MqttClient } from 'mqtt';
import { Client } from 'pg';

import { createTestDatabase, redisUrl, TcpProxy, uniquePrefix, waitFor } from '@signet/testing';

import { TokenApi, type IssuedCredentials } from '../support/api';
import { connect, credentialsRefusal, serverClosed } from '../support/mqtt';
import { realBackend, testEnv, type Backend } from '../support/signet';
import { SpawnedApp } from '../support/spawn';

jest.setTimeout(120_000);

/** How many revocations the bus reported as not published in time (the line a waiting revoke would log first). */
const gaveUp = (log: string): number => log.split('revocation committed but not published').length - 1;

describe('revocation during a Redis outage (token service + standalone edge)', () => {
  let db: { url: string; drop(): Promise<void> };
  let pg: Client;
  let redis: Redis;
  let proxy: TcpProxy;
  let prefix: string;
  let tokenService: SpawnedApp;
  let edge: SpawnedApp;
  let api: TokenApi;
  let mqttUrl: string;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('signet_revocation_outage');
    prefix = uniquePrefix('revocation-outage');
    redis = new Redis(redisUrl());
    proxy = TcpProxy.forUrl(redisUrl());
    const viaProxy = `redis://127.0.0.1:${await proxy.start()}`;
    const shared = { REDIS_URL: viaProxy, SIGNET_REDIS_PREFIX: prefix, SIGNET_LOG_LEVEL: 'warn' };
    tokenService = SpawnedApp.start('token-service', testEnv({ ...shared, DATABASE_URL: db.url, SIGNET_MASTER_KEY: randomBytes(32).toString('base64') }));
    await tokenService.ready();
    const key = /^(sk_\S+)$/m.exec(tokenService.stdout)?.[1];
    api = new TokenApi(`http://127.0.0.1:${tokenService.port('HTTP API')}`, key);
    edge = SpawnedApp.start('mqtt-edge', testEnv({ ...shared, SIGNET_TOKEN_SERVICE_GRPC: `127.0.0.1:${tokenService.port('gRPC')}` }));
    await edge.ready();
    mqttUrl = `mqtt://127.0.0.1:${edge.port('MQTT')}`;
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });

  afterAll(async () => {
    for (const c of clients.splice(0)) c.end(true);
    await edge?.stop();
    await tokenService?.stop();
    await proxy?.close();
    await pg?.end();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await db?.drop();
  });

  const session = async (userId: string): Promise<{ creds: IssuedCredentials; client: MqttClient; closed: Promise<{ reasonCode?: number }> }> => {
    const creds = await api.issue({ user_id: userId });
    const client = await connect(mqttUrl, { ...creds.mqtt_credentials, protocolVersion: 5 });
    clients.push(client);
    return { creds, client, closed: serverClosed(client) };
  };

  const tokenServiceLog = (): string => tokenService.stdout + tokenService.stderr;

  /** The seqs of the stream's entries naming `tokenId`, read from Redis directly (not through the proxy). */
  const streamSeqs = async (tokenId: string): Promise<number[]> => {
    const entries = await redis.xrange(`${prefix}revocations`, '-', '+');
    return entries
      .map(([, fields]) => JSON.parse(fields[1]!) as { seq: number; credentialIds: string[] })
      .filter((e) => e.credentialIds.includes(tokenId))
      .map((e) => e.seq);
  };

  const logEntry = async (tokenId: string): Promise<{ seq: number; published: boolean }> => {
    const { rows } = await pg.query<{ seq: string; published: boolean }>(
      `SELECT seq, published_at IS NOT NULL AS published FROM revocations WHERE credential_ids ? $1`,
      [tokenId],
    );
    expect(rows).toHaveLength(1);
    return { seq: Number(rows[0]!.seq), published: rows[0]!.published };
  };

  it('answers the revoke, closes the session and refuses a reconnect while Redis is stalled; publishes once, in order, when it is back', async () => {
    const first = await session('alice');
    const second = await session('bob');
    const bystander = await session('carol');
    let bystanderClosed = false;
    void bystander.closed.then(() => (bystanderClosed = true));

    let a = { seq: 0, published: false };
    let b = a;
    // Connections stay open and nothing is forwarded: a bus waiting on Redis would wait until its own timeouts.
    proxy.stall();
    try {
      for (const { creds } of [first, second]) {
        expect((await api.call('DELETE', `/v1/tokens/${creds.token_id}`)).status).toBe(204);
        // Answered while nothing could reach Redis, and before the bus gave up on it (it says so after
        // its publish timeout; a revoke that waited for the bus would answer only after that line).
        expect(proxy.stalled).toBe(true);
        expect(gaveUp(tokenServiceLog())).toBe(0);
        expect(await streamSeqs(creds.token_id)).toEqual([]);
      }
      [a, b] = [await logEntry(first.creds.token_id), await logEntry(second.creds.token_id)];
      expect(a.published).toBe(false);
      expect(b.published).toBe(false);

      // The edge hears of it from the token service over gRPC: sessions closed, reconnects refused, Redis still stalled.
      expect((await first.closed).reasonCode).toBe(0x98);
      expect((await second.closed).reasonCode).toBe(0x98);
      expect(await credentialsRefusal(mqttUrl, first.creds, 5)).toBe(0x86);
      expect(proxy.stalled).toBe(true);
      expect(await streamSeqs(first.creds.token_id)).toEqual([]);
      // Nobody revoked carol: her session stays.
      expect(bystanderClosed).toBe(false);
      // By now the bus has given up waiting (the outbox keeps the entries): it was the stall the revokes did not wait for.
      await waitFor(() => gaveUp(tokenServiceLog()) > 0, { timeoutMs: 10_000, message: 'the bus reported the publish not confirmed' });
    } finally {
      proxy.restore();
    }

    await waitFor(async () => (await logEntry(first.creds.token_id)).published && (await logEntry(second.creds.token_id)).published, {
      timeoutMs: 30_000,
      intervalMs: 200,
      message: 'the outbox entries marked published',
    });
    // A few more relay rounds: nothing is published again.
    await new Promise((r) => setTimeout(r, 3000));
    expect(await streamSeqs(first.creds.token_id)).toEqual([a.seq]);
    expect(await streamSeqs(second.creds.token_id)).toEqual([b.seq]);
    const entries = await redis.xrange(`${prefix}revocations`, '-', '+');
    const order = entries.map(([, fields]) => (JSON.parse(fields[1]!) as { seq: number }).seq);
    expect(order.indexOf(a.seq)).toBeLessThan(order.indexOf(b.seq));
    expect(bystanderClosed).toBe(false);
  });

  it('answers a token revoke and a user revoke while Redis is cut, and the edge closes both before Redis returns', async () => {
    const victim = await session('erin');
    const user = await session('frank');
    proxy.cut();
    try {
      for (const [method, path] of [
        ['DELETE', `/v1/tokens/${victim.creds.token_id}`],
        ['POST', '/v1/users/frank/revoke'],
      ] as const) {
        const before = gaveUp(tokenServiceLog());
        expect((await api.call(method, path)).status).toBeLessThan(300);
        // A revoke waiting for the bus would have logged its give-up before answering.
        expect(gaveUp(tokenServiceLog())).toBe(before);
      }
      expect((await victim.closed).reasonCode).toBe(0x98);
      expect((await user.closed).reasonCode).toBe(0x98);
      expect(await credentialsRefusal(mqttUrl, victim.creds, 5)).toBe(0x86);
      expect(await credentialsRefusal(mqttUrl, user.creds, 4)).toBe(4);
      expect(proxy.cutOff).toBe(true);
    } finally {
      proxy.restore();
    }
    await waitFor(async () => (await logEntry(victim.creds.token_id)).published && (await logEntry(user.creds.token_id)).published, {
      timeoutMs: 30_000,
      intervalMs: 200,
      message: 'published',
    });
    expect(await streamSeqs(victim.creds.token_id)).toEqual([(await logEntry(victim.creds.token_id)).seq]);
    expect(await streamSeqs(user.creds.token_id)).toEqual([(await logEntry(user.creds.token_id)).seq]);
  });
});

describe('revocation during a Redis stall (all-in-one: the edge is in the process)', () => {
  let backend: Backend;
  let proxy: TcpProxy;
  let signet: SpawnedApp;
  let api: TokenApi;
  let mqttUrl: string;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    backend = await realBackend('revocation_outage_aio');
    proxy = TcpProxy.forUrl(backend.env['REDIS_URL']!);
    signet = SpawnedApp.start(
      'signet',
      testEnv({ ...backend.env, REDIS_URL: `redis://127.0.0.1:${await proxy.start()}`, SIGNET_LOG_LEVEL: 'warn' }),
    );
    await signet.ready(60_000);
    api = new TokenApi(`http://127.0.0.1:${signet.port('HTTP API')}`, /^(sk_\S+)$/m.exec(signet.stdout)?.[1]);
    mqttUrl = `mqtt://127.0.0.1:${signet.port('MQTT')}`;
  });
  afterAll(async () => {
    for (const c of clients.splice(0)) c.end(true);
    proxy?.restore();
    await signet?.stop();
    await proxy?.close();
    await backend?.cleanup();
  });

  it('answers an API key revoke at once and closes the key’s session while Redis is stalled', async () => {
    const created = await api.call('POST', '/v1/keys', { name: 'stalled-svc', type: 'secret' });
    expect(created.status).toBe(201);
    const orgId = /Bootstrap API key for (org_[a-z0-9]{12})/.exec(signet.stdout)![1];
    const client = await connect(mqttUrl, { username: `stalled-svc@${orgId}`, password: created.body['key'] as string, protocolVersion: 5 });
    clients.push(client);
    const closed = serverClosed(client);
    proxy.stall();
    try {
      const before = gaveUp(signet.stdout + signet.stderr);
      expect((await api.call('DELETE', `/v1/keys/${created.body['id'] as string}`)).status).toBe(204);
      expect(gaveUp(signet.stdout + signet.stderr)).toBe(before);
      expect((await closed).reasonCode).toBe(0x98);
      expect(proxy.stalled).toBe(true);
    } finally {
      proxy.restore();
    }
  });
});
