/**
 * The core flow, end to end, in the all-in-one process: a backend gets
 * per-user MQTT credentials with its API key, devices connect with them over
 * TCP and WebSocket (MQTT 3.1.1 and 5.0), permissions hold, and a revoke
 * closes the session at once. The same suite runs on the embedded backends
 * (PGlite, in-process bus) and on the machine's PostgreSQL and Redis.
 */
import { connect as connectTcp } from 'node:net';

import type { MqttClient } from 'mqtt';
import type { DataSource } from 'typeorm';

import { ApiKeysService } from '@signet/api-keys';
import { newOrgId } from '@signet/credentials';
import { DATA_SOURCE, OrgEntity } from '@signet/persistence';
import type { SignetProcess } from '@signet/runtime';
import { tamper } from '@signet/testing';

import { IssuedCredentials, TokenApi } from '../support/api';
import {
  brokerUrl,
  connect,
  Endpoints,
  nextMessage,
  noMessage,
  publishCode,
  credentialsRefusal,
  refusalCode,
  serverClosed,
  subscribeCodes,
  Transport,
} from '../support/mqtt';
import { Backend, BACKENDS, reach, startSignet } from '../support/signet';

const VERSIONS = [4, 5] as const;
const TRANSPORTS: Transport[] = ['tcp', 'ws'];

describe.each(BACKENDS)('core flow on %s', (label, makeBackend) => {
  let backend: Backend;
  let signet: SignetProcess;
  let api: TokenApi;
  let anonymous: TokenApi;
  let endpoints: Endpoints;
  let apiKey: string;
  const clients: MqttClient[] = [];

  const track = (c: MqttClient) => {
    clients.push(c);
    return c;
  };
  const login = (creds: IssuedCredentials, transport: Transport, protocolVersion: 4 | 5, clientId?: string) =>
    connect(brokerUrl(endpoints, transport), {
      username: creds.mqtt_credentials.username,
      password: creds.mqtt_credentials.password,
      protocolVersion,
      ...(clientId ? { clientId } : {}),
    }).then(track);

  beforeAll(async () => {
    backend = await makeBackend(`core_${label.replace(/\W/g, '')}`);
    signet = await startSignet(backend);
    expect(signet.service?.bootstrap?.apiKey).toMatch(/^sk_/);
    apiKey = signet.service!.bootstrap!.apiKey;
    ({ anonymous, endpoints } = reach(signet));
    api = anonymous.withKey(apiKey);
  });

  afterEach(() => {
    for (const c of clients.splice(0)) c.end(true);
  });

  afterAll(async () => {
    await signet?.close();
    await backend?.cleanup();
  });

  describe('token API', () => {
    it('issues credentials with the documented shape and defaults', async () => {
      const before = Date.now();
      const creds = await api.issue({ user_id: 'alice' });
      const orgId = signet.service!.bootstrap!.orgId;
      expect(creds.token_id).toMatch(/^tok_/);
      expect(creds.mqtt_credentials.username).toBe(`alice@${orgId}`);
      expect(creds.mqtt_credentials.password).toMatch(/^tkn_/);
      expect(creds.refresh_token).toMatch(/^rt_/);
      const ttl = (Date.parse(creds.expires_at) - before) / 1000;
      expect(ttl).toBeGreaterThan(3590);
      expect(ttl).toBeLessThanOrEqual(3601);
      expect(Date.parse(creds.refresh_expires_at)).toBeGreaterThan(Date.parse(creds.expires_at));
    });

    it('lists metadata and never a secret', async () => {
      const creds = await api.issue({ user_id: 'lister' });
      const res = await api.call('GET', '/v1/tokens?user_id=lister');
      expect(res.status).toBe(200);
      const text = JSON.stringify(res.body);
      expect(text).toContain(creds.token_id);
      expect(text).not.toContain('tkn_');
      expect(text).not.toContain('rt_');
    });

    it('introspects active and revoked tokens (RFC 7662)', async () => {
      const creds = await api.issue({ user_id: 'intro' });
      const active = await api.call('POST', '/v1/tokens/introspect', { token: creds.mqtt_credentials.password });
      expect(active.body).toMatchObject({ active: true, sub: 'intro', jti: creds.token_id });
      expect((await api.call('DELETE', `/v1/tokens/${creds.token_id}`)).status).toBe(204);
      const revoked = await api.call('POST', '/v1/tokens/introspect', { token: creds.mqtt_credentials.password });
      expect(revoked.body).toEqual({ active: false });
    });

    it('publishes public keys only', async () => {
      const res = await anonymous.call('GET', '/.well-known/jwks.json');
      expect(res.status).toBe(200);
      const keys = res.body['keys'] as Record<string, unknown>[];
      expect(keys.length).toBeGreaterThan(0);
      for (const k of keys) {
        // ES256 by default (SIGNET_TOKEN_SIGNING_ALG): the public point, nothing else.
        expect(k).toMatchObject({ kty: 'EC', alg: 'ES256', crv: 'P-256' });
        expect(k).not.toHaveProperty('d');
      }
    });

    it.each([
      ['malformed JSON', { rawBody: '{"user_id":' }, 400, 'malformed_json'],
      ['a missing user_id', { body: {} }, 400, 'validation_failed'],
      ['a user id with a wildcard', { body: { user_id: 'a/#' } }, 400, 'invalid_user_id'],
      ['an invalid permission', { body: { user_id: 'a', permissions: { publish: ['a/#/b'], subscribe: [] } } }, 400, 'invalid_permission'],
      ['a negative ttl', { body: { user_id: 'a', ttl_seconds: -5 } }, 400, 'validation_failed'],
      ['a ttl over the maximum', { body: { user_id: 'a', ttl_seconds: 10 * 86400 } }, 400, 'ttl_too_long'],
    ])('answers %s with a problem', async (_l, input, status, code) => {
      const res = await api.call('POST', '/v1/tokens', (input as { body?: unknown }).body, {
        rawBody: (input as { rawBody?: string }).rawBody,
      });
      expect(res.status).toBe(status);
      expect(res.contentType).toContain('application/problem+json');
      expect(res.body).toMatchObject({ status, code });
    });

    it('refuses calls without a valid API key', async () => {
      const none = await anonymous.call('POST', '/v1/tokens', { user_id: 'a' });
      expect(none.status).toBe(401);
      expect(none.contentType).toContain('application/problem+json');
      const typo = tamper(apiKey);
      const bad = await anonymous.withKey(typo).call('POST', '/v1/tokens', { user_id: 'a' });
      expect(bad.status).toBe(401);
    });
  });

  describe.each(TRANSPORTS)('MQTT over %s', (transport) => {
    describe.each(VERSIONS)('protocol version %i', (version) => {
      it('connects, publishes and subscribes within the default permissions', async () => {
        const creds = await api.issue({ user_id: `u_${transport}_${version}` });
        const sub = await login(creds, transport, version);
        const user = `u_${transport}_${version}`;
        await sub.subscribeAsync(`users/${user}/#`, { qos: 1 });
        const pub = await login(creds, transport, version);
        const received = nextMessage(sub);
        await pub.publishAsync(`users/${user}/hello`, 'hi', { qos: 1 });
        expect(await received).toEqual({ topic: `users/${user}/hello`, payload: 'hi' });
      });

      it('drops publishes and refuses subscriptions outside the permissions', async () => {
        const creds = await api.issue({ user_id: `d_${transport}_${version}` });
        const other = await api.issue({ user_id: `victim_${transport}_${version}` });
        const victim = await login(other, transport, version);
        await victim.subscribeAsync(`users/victim_${transport}_${version}/#`);
        const client = await login(creds, transport, version);
        expect(await subscribeCodes(client, `users/victim_${transport}_${version}/#`)).toEqual([version === 5 ? 0x87 : 0x80]);
        // 3.1.1 has no negative PUBACK: the publish is acknowledged and dropped.
        expect(await publishCode(client, `users/victim_${transport}_${version}/x`, 'intrusion')).toBe(version === 5 ? 0x87 : 0);
        await noMessage(victim);
      });

      it('closes the session as soon as its token is revoked, and refuses it afterwards', async () => {
        const creds = await api.issue({ user_id: `r_${transport}_${version}` });
        const client = await login(creds, transport, version);
        const closed = serverClosed(client);
        const started = Date.now();
        expect((await api.call('DELETE', `/v1/tokens/${creds.token_id}`)).status).toBe(204);
        const { reasonCode } = await closed;
        expect(Date.now() - started).toBeLessThan(2000);
        if (version === 5) expect(reasonCode).toBe(0x98);
        expect(await credentialsRefusal(brokerUrl(endpoints, transport), creds, version)).toBe(version === 5 ? 0x86 : 4);
        // Idempotent.
        expect((await api.call('DELETE', `/v1/tokens/${creds.token_id}`)).status).toBe(204);
      });
    });
  });

  it('fills placeholders in custom permissions', async () => {
    const creds = await api.issue({
      user_id: 'carol',
      permissions: { publish: ['rooms/{client_id}/out'], subscribe: ['rooms/+/out', 'orgs/{org_id}/news'] },
    });
    const client = await login(creds, 'tcp', 5, 'lobby');
    await client.subscribeAsync('rooms/+/out');
    const received = nextMessage(client);
    await client.publishAsync('rooms/lobby/out', 'hello', { qos: 1 });
    expect(await received).toEqual({ topic: 'rooms/lobby/out', payload: 'hello' });
    expect(await publishCode(client, 'rooms/other/out', 'x')).toBe(0x87);
    const orgId = signet.service!.bootstrap!.orgId;
    expect(await subscribeCodes(client, `orgs/${orgId}/news`)).toEqual([0]);
    expect(await subscribeCodes(client, 'orgs/org_000000000000/news')).toEqual([0x87]);
  });

  it('binds a token to its client_id when one is given', async () => {
    const creds = await api.issue({ user_id: 'bound', client_id: 'device-1' });
    await expect(login(creds, 'tcp', 5, 'device-1')).resolves.toBeDefined();
    expect(await credentialsRefusal(brokerUrl(endpoints, 'tcp'), creds, 5, { clientId: 'device-2' })).toBe(0x87);
  });

  it.each(VERSIONS)('refuses forged, mismatched and anonymous CONNECTs (v%i)', async (version) => {
    const creds = await api.issue({ user_id: 'mallory' });
    const url = brokerUrl(endpoints, 'tcp');
    const bad = version === 5 ? 0x86 : 4;
    const pw = creds.mqtt_credentials.password;
    const forged = tamper(pw, 6);
    const orgId = signet.service!.bootstrap!.orgId;
    expect(await refusalCode(url, { username: creds.mqtt_credentials.username, password: forged, protocolVersion: version })).toBe(bad);
    expect(await refusalCode(url, { username: `alice@${orgId}`, password: pw, protocolVersion: version })).toBe(bad);
    expect(await refusalCode(url, { username: 'mallory@org_000000000000', password: pw, protocolVersion: version })).toBe(bad);
    expect(await refusalCode(url, { username: 'mallory', password: pw, protocolVersion: version })).toBe(bad);
    expect(await refusalCode(url, { protocolVersion: version })).toBe(bad);
    expect(await refusalCode(url, { username: creds.mqtt_credentials.username, password: apiKey, protocolVersion: version })).toBe(bad);
  });

  describe('org isolation', () => {
    let other: TokenApi;

    beforeAll(async () => {
      // A second org with its own key (org management is not an API yet).
      const app = signet.service!.app;
      const orgId = newOrgId();
      await app.get<DataSource>(DATA_SOURCE).getRepository(OrgEntity).insert({ id: orgId, name: 'other', maxTokenTtlSeconds: null });
      const { apiKey: key } = await app.get(ApiKeysService).createKey({ orgId, name: 'other', type: 'secret' });
      other = anonymous.withKey(key);
    });

    it('keeps messages, retained messages and wildcards inside each org', async () => {
      const spy = await other.issue({ user_id: 'alice', permissions: { publish: ['#'], subscribe: ['#'] } });
      const alice = await api.issue({ user_id: 'alice' });
      expect(spy.mqtt_credentials.username).not.toBe(alice.mqtt_credentials.username);
      const aliceClient = await login(alice, 'tcp', 5);
      await aliceClient.publishAsync('users/alice/state', 'retained-secret', { qos: 1, retain: true });
      const spyClient = await login(spy, 'ws', 5);
      await spyClient.subscribeAsync('#');
      await noMessage(spyClient); // no retained message of the other org
      await aliceClient.publishAsync('users/alice/live', 'live-secret', { qos: 1 });
      await noMessage(spyClient);
      // The same topic in the spy's own org does reach it.
      const own = nextMessage(spyClient);
      await spyClient.publishAsync('users/alice/live', 'own', { qos: 1 });
      expect((await own).payload).toBe('own');
    });

    it("cannot see, introspect or revoke another org's tokens", async () => {
      const creds = await api.issue({ user_id: 'grace' });
      expect((await other.call('DELETE', `/v1/tokens/${creds.token_id}`)).status).toBe(404);
      expect(JSON.stringify((await other.call('GET', '/v1/tokens?user_id=grace')).body)).not.toContain(creds.token_id);
      expect((await other.call('POST', '/v1/tokens/introspect', { token: creds.mqtt_credentials.password })).body).toEqual({ active: false });
      expect((await other.call('POST', '/v1/users/grace/revoke')).body).toMatchObject({ revoked: 0 });
      await expect(login(creds, 'tcp', 5)).resolves.toBeDefined();
    });
  });

  it.each([
    ['garbage bytes', Buffer.from('GET / HTTP/1.1\r\n\r\n')],
    ['a PUBLISH before CONNECT', Buffer.from([0x30, 0x05, 0x00, 0x01, 0x61, 0x68, 0x69])],
    ['a truncated CONNECT', Buffer.from([0x10, 0x20, 0x00, 0x04, 0x4d, 0x51])],
    ['a length field that never ends', Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f])],
  ])('survives %s on the MQTT port and keeps serving', async (_label, bytes) => {
    const socket = connectTcp(endpoints.mqttPort, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write(bytes);
    socket.end();
    await new Promise((r) => socket.once('close', r));
    const creds = await api.issue({ user_id: 'steady' });
    await expect(login(creds, 'tcp', 4)).resolves.toBeDefined();
  });

  it('closes a session when its token expires, and refuses the token after', async () => {
    const creds = await api.issue({ user_id: 'shortlived', ttl_seconds: 2 });
    const client = await login(creds, 'tcp', 5);
    const { reasonCode } = await serverClosed(client);
    expect(reasonCode).toBe(0xa0);
    expect(await credentialsRefusal(brokerUrl(endpoints, 'tcp'), creds, 5)).toBe(0x86);
  });

  describe.each(VERSIONS)('will policy on revoke, protocol version %i', (version) => {
    it("publishes a revoked session's will only once the org's will_on_revoke is publish", async () => {
      const topic = `status/device_${version}`;
      const watcherCreds = await api.issue({ user_id: `watcher_${version}`, permissions: { subscribe: ['status/#'] } });
      const watcher = await login(watcherCreds, 'tcp', version);
      await watcher.subscribeAsync('status/#', { qos: 1 });
      // A device with a will, whose token is then revoked through the API.
      const revokeDeviceWithWill = async (): Promise<void> => {
        const creds = await api.issue({ user_id: `device_${version}`, permissions: { publish: ['status/{user_id}'] } });
        const device = track(
          await connect(brokerUrl(endpoints, 'ws'), {
            ...creds.mqtt_credentials,
            protocolVersion: version,
            will: { topic, payload: Buffer.from('offline'), qos: 1, retain: false },
          }),
        );
        const closed = serverClosed(device);
        expect((await api.call('DELETE', `/v1/tokens/${creds.token_id}`)).status).toBe(204);
        await closed;
      };

      expect((await api.call('GET', '/v1/org/settings')).body).toEqual({ will_on_revoke: 'suppress' });
      await revokeDeviceWithWill();
      await noMessage(watcher, 500);

      try {
        const changed = await api.call('PATCH', '/v1/org/settings', { will_on_revoke: 'publish' });
        expect({ status: changed.status, body: changed.body }).toEqual({ status: 200, body: { will_on_revoke: 'publish' } });
        const will = nextMessage(watcher);
        await revokeDeviceWithWill();
        expect(await will).toEqual({ topic, payload: 'offline' });
      } finally {
        // Back to the default for the rest of the suite.
        await api.call('PATCH', '/v1/org/settings', { will_on_revoke: 'suppress' });
      }
    });
  });

  it('revokes every token of a user', async () => {
    const a = await api.issue({ user_id: 'dave' });
    const b = await api.issue({ user_id: 'dave' });
    const ca = await login(a, 'tcp', 5);
    const cb = await login(b, 'ws', 4);
    const closed = Promise.all([serverClosed(ca), serverClosed(cb)]);
    const res = await api.call('POST', '/v1/users/dave/revoke');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ revoked: 2 });
    const [ra] = await closed;
    expect(ra.reasonCode).toBe(0x98);
  });

  it('refreshes without a new login; reusing a refresh token revokes the whole chain', async () => {
    const first = await api.issue({ user_id: 'erin' });
    const refreshed = await anonymous.call('POST', '/v1/tokens/refresh', { refresh_token: first.refresh_token });
    expect([200, 201]).toContain(refreshed.status);
    const second = refreshed.body as unknown as IssuedCredentials;
    expect(second.mqtt_credentials.password).not.toBe(first.mqtt_credentials.password);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    const c1 = await login(first, 'tcp', 5);
    const c2 = await login(second, 'tcp', 5);
    const closed = Promise.all([serverClosed(c1), serverClosed(c2)]);
    const reuse = await anonymous.call('POST', '/v1/tokens/refresh', { refresh_token: first.refresh_token });
    expect(reuse.status).toBe(401);
    expect(reuse.body).toMatchObject({ code: 'refresh_token_reused' });
    const reasons = (await closed).map((r) => r.reasonCode);
    expect(reasons).toEqual([0x98, 0x98]);
    const again = await anonymous.call('POST', '/v1/tokens/refresh', { refresh_token: second.refresh_token });
    expect(again.status).toBe(401);
  });

  it('keeps data, keys and revocations across a restart, and does not print the bootstrap key again', async () => {
    const kept = await api.issue({ user_id: 'frank' });
    const revoked = await api.issue({ user_id: 'frank' });
    await api.call('DELETE', `/v1/tokens/${revoked.token_id}`);
    await signet.close();
    signet = await startSignet(backend);
    expect(signet.service?.bootstrap).toBeNull();
    ({ anonymous, endpoints } = reach(signet));
    api = anonymous.withKey(apiKey);
    expect((await api.call('GET', '/v1/tokens?user_id=frank')).status).toBe(200);
    await expect(login(kept, 'tcp', 5)).resolves.toBeDefined();
    expect(await credentialsRefusal(brokerUrl(endpoints, 'tcp'), revoked, 5)).toBe(0x86);
  });
});
