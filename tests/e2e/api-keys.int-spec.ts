/**
 * API keys end to end, in the all-in-one on the machine's PostgreSQL and
 * Redis: the sk_/rk_ lifecycle over REST and MQTT (create, use, rotate with a
 * grace period, revoke), the no-escalation rules, IP allowlists from inside
 * and outside, usage counters (and that a clean stop loses none), guess
 * throttling, and every bad input of the key API.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';

import type { MqttClient } from 'mqtt';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';

import { ApiKeysService } from '@signet/api-keys';
import { newApiKey, parseApiKey } from '@signet/credentials';
import { DATA_SOURCE } from '@signet/persistence';
import type { SignetProcess } from '@signet/runtime';
import { createTestDatabase, redisUrl, tamper, uniquePrefix, waitFor } from '@signet/testing';

import { TokenApi } from '../support/api';
import { brokerUrl, connect, Endpoints, nextMessage, noMessage, publishCode, refusalCode, serverClosed, subscribeCodes } from '../support/mqtt';
import { Backend, reach, realBackend, startSignet, testEnv } from '../support/signet';
import { SpawnedApp } from '../support/spawn';

interface KeyBody {
  id: string;
  key?: string;
  name: string;
  type: string;
  masked_key: string;
  scopes: string[];
  ip_allowlist: string[];
  status: string;
  mqtt_username: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  rotated_from: string | null;
  replaced_by: string | null;
  previous?: KeyBody;
}

interface UsageBody {
  buckets: Array<{ start: string; api_calls: number; mqtt_connects: number; messages_published: number; bytes_published: number; denials: number }>;
  totals: { api_calls: number; mqtt_connects: number; messages_published: number; bytes_published: number; denials: number };
}

const FAST_ENV = {
  SIGNET_USAGE_FLUSH_MS: '200',
  // Tests make many deliberate failures from 127.0.0.1; throttling has its own suite below.
  SIGNET_KEY_THROTTLE_IP_FAILURES: '100000',
  SIGNET_KEY_THROTTLE_KEY_FAILURES: '100000',
};

describe('API keys end to end (PostgreSQL + Redis)', () => {
  let backend: Backend;
  let signet: SignetProcess;
  let admin: TokenApi;
  let anonymous: TokenApi;
  let endpoints: Endpoints;
  let orgId: string;
  let bootKey: string;
  const clients: MqttClient[] = [];

  const url = (transport: 'tcp' | 'ws' = 'tcp') => brokerUrl(endpoints, transport);
  const track = (c: MqttClient) => {
    clients.push(c);
    return c;
  };
  const mqttLogin = (name: string, key: string, protocolVersion: 4 | 5 = 5, transport: 'tcp' | 'ws' = 'tcp') =>
    connect(url(transport), { username: `${name}@${orgId}`, password: key, protocolVersion }).then(track);

  const createKey = async (caller: TokenApi, body: Record<string, unknown>): Promise<KeyBody & { key: string }> => {
    const res = await caller.call('POST', '/v1/keys', body);
    if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as unknown as KeyBody & { key: string };
  };
  const expectProblem = (res: { status: number; body: Record<string, unknown>; contentType: string }, status: number, code: string) => {
    expect({ status: res.status, code: res.body['code'] }).toEqual({ status, code });
    expect(res.contentType).toContain('application/problem+json');
  };
  const usageOf = async (id: string, query = ''): Promise<UsageBody> => {
    const res = await admin.call('GET', `/v1/keys/${id}/usage${query}`);
    expect(res.status).toBe(200);
    return res.body as unknown as UsageBody;
  };

  beforeAll(async () => {
    backend = await realBackend('apikeys_e2e');
    signet = await startSignet(backend, FAST_ENV);
    const bootstrap = signet.service!.bootstrap!;
    orgId = bootstrap.orgId;
    bootKey = bootstrap.apiKey;
    ({ anonymous, endpoints } = reach(signet));
    admin = anonymous.withKey(bootstrap.apiKey);
  });

  afterEach(() => {
    for (const c of clients.splice(0)) c.end(true);
  });

  afterAll(async () => {
    await signet?.close();
    await backend?.cleanup();
  });

  describe('keys over REST', () => {
    it('treats the bootstrap key as an ordinary sk_ key of the service', async () => {
      const res = await admin.call('GET', '/v1/keys');
      expect(res.status).toBe(200);
      const keys = res.body['keys'] as KeyBody[];
      const boot = keys.find((k) => k.name === 'bootstrap');
      expect(boot).toMatchObject({ type: 'secret', status: 'active', mqtt_username: `bootstrap@${orgId}` });
      expect(boot?.masked_key).toBe(`sk_${boot?.id}_****`);
    });

    it('creates a key, shows it once, stores only its bcrypt hash, and lists it masked with last_used_at', async () => {
      const created = await createKey(admin, { name: 'billing-backend', type: 'secret' });
      expect(created.key).toMatch(/^sk_[0-9a-z]{12}_[0-9A-Za-z]{38}$/);
      expect(Buffer.byteLength(created.key)).toBeLessThanOrEqual(72);
      expect(parseApiKey(created.key)?.keyId).toBe(created.id);
      expect(created).toMatchObject({ name: 'billing-backend', type: 'secret', status: 'active', scopes: [], ip_allowlist: [], last_used_at: null });

      const ds = signet.service!.app.get<DataSource>(DATA_SOURCE);
      const rows: Array<Record<string, unknown>> = await ds.query(`SELECT row_to_json(k)::text AS j, key_hash FROM api_keys k WHERE id = $1`, [created.id]);
      expect(String(rows[0]['key_hash'])).toMatch(/^\$2[aby]\$10\$/);
      expect(String(rows[0]['j'])).not.toContain(created.key.slice(16, 48));

      const fetched = await admin.call('GET', `/v1/keys/${created.id}`);
      expect(fetched.status).toBe(200);
      expect(fetched.body).not.toHaveProperty('key');
      expect(JSON.stringify(fetched.body)).not.toContain(created.key);

      const own = admin.withKey(created.key);
      expect((await own.call('GET', '/v1/tokens')).status).toBe(200);
      await waitFor(async () => ((await admin.call('GET', `/v1/keys/${created.id}`)).body['last_used_at'] as string | null) !== null);
      const listed = (await admin.call('GET', '/v1/keys?limit=1')).body;
      expect((listed['keys'] as KeyBody[])).toHaveLength(1);
      expect(listed['next_cursor']).toEqual(expect.any(String));
      const page2 = await admin.call('GET', `/v1/keys?limit=100&cursor=${String(listed['next_cursor'])}`);
      expect((page2.body['keys'] as KeyBody[]).every((k) => !('key' in k))).toBe(true);
    });

    it('refuses a mistyped key before any bcrypt, and an unknown one', async () => {
      const created = await createKey(admin, { name: 'typo', type: 'secret' });
      const stats = signet.service!.app.get(ApiKeysService).stats;
      const before = stats.bcryptChecks;
      const typo = created.key.slice(0, 30) + (created.key[30] === 'a' ? 'b' : 'a') + created.key.slice(31);
      expectProblem(await anonymous.withKey(typo).call('GET', '/v1/tokens'), 401, 'invalid_api_key');
      expectProblem(await anonymous.withKey('sk_nope').call('GET', '/v1/tokens'), 401, 'invalid_api_key');
      expect(stats.bcryptChecks).toBe(before);
    });

    it.each<[string, Record<string, unknown>, number, string]>([
      ['an unknown scope', { name: 'x', type: 'restricted', scopes: ['tokens:delete'] }, 400, 'invalid_scope'],
      ['a bad MQTT filter scope', { name: 'x', type: 'restricted', scopes: ['mqtt:publish:a/#/b'] }, 400, 'invalid_scope'],
      ['scopes on a secret key', { name: 'x', type: 'secret', scopes: ['tokens:read'] }, 400, 'scopes_not_allowed'],
      ['a restricted key without scopes', { name: 'x', type: 'restricted' }, 400, 'scopes_required'],
      ['a bad CIDR', { name: 'x', type: 'secret', ip_allowlist: ['10.0.0.0/33'] }, 400, 'invalid_ip_allowlist'],
      ['a host name in the allowlist', { name: 'x', type: 'secret', ip_allowlist: ['example.com'] }, 400, 'invalid_ip_allowlist'],
      ['a bad name', { name: 'a/b', type: 'secret' }, 400, 'invalid_name'],
      ['an empty name', { name: '', type: 'secret' }, 400, 'invalid_name'],
      ['an unknown type', { name: 'x', type: 'admin' }, 400, 'validation_failed'],
      ['an unknown field', { name: 'x', type: 'secret', admin: true }, 400, 'validation_failed'],
      ['expires_at in the past', { name: 'x', type: 'secret', expires_at: '2001-01-01T00:00:00Z' }, 400, 'invalid_expires_at'],
      ['expires_at not a date', { name: 'x', type: 'secret', expires_at: 'tomorrow' }, 400, 'invalid_expires_at'],
    ])('refuses %s', async (_label, body, status, code) => {
      expectProblem(await admin.call('POST', '/v1/keys', body), status, code);
    });

    it('answers bad ids, rotations and usage ranges with problems', async () => {
      const k = await createKey(admin, { name: 'misc', type: 'secret' });
      expectProblem(await admin.call('GET', '/v1/keys/zzzzzzzzzzzz'), 404, 'key_not_found');
      expectProblem(await admin.call('GET', '/v1/keys/not-a-key-id'), 404, 'key_not_found');
      expectProblem(await admin.call('DELETE', '/v1/keys/zzzzzzzzzzzz'), 404, 'key_not_found');
      expectProblem(await admin.call('POST', `/v1/keys/${k.id}/rotate`, { grace_seconds: -1 }), 400, 'validation_failed');
      expectProblem(await admin.call('POST', `/v1/keys/${k.id}/rotate`, { grace_seconds: 9_999_999 }), 400, 'invalid_grace_period');
      expectProblem(await admin.call('GET', `/v1/keys/${k.id}/usage?interval=week`), 400, 'validation_failed');
      expectProblem(await admin.call('GET', `/v1/keys/${k.id}/usage?from=yesterday`), 400, 'invalid_range');
      expectProblem(await admin.call('GET', `/v1/keys/${k.id}/usage?from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z`), 400, 'invalid_range');
      expectProblem(await admin.call('GET', `/v1/keys/${k.id}/usage?from=2020-01-01T00:00:00Z&to=2030-01-01T00:00:00Z`), 400, 'range_too_large');
      expectProblem(await admin.call('GET', '/v1/keys?cursor=garbage'), 400, 'invalid_cursor');
      expectProblem(await anonymous.call('GET', '/v1/keys'), 401, 'missing_api_key');
      // Revoked keys cannot be rotated; revoking twice is fine.
      expect((await admin.call('DELETE', `/v1/keys/${k.id}`)).status).toBe(204);
      expect((await admin.call('DELETE', `/v1/keys/${k.id}`)).status).toBe(204);
      expectProblem(await admin.call('POST', `/v1/keys/${k.id}/rotate`, {}), 409, 'key_not_active');
    });
  });

  describe('keys on MQTT', () => {
    it('gives sk_ full access inside its org, over TCP and WebSocket, 3.1.1 and 5.0', async () => {
      const k = await createKey(admin, { name: 'ingest', type: 'secret' });
      for (const [v, t] of [[5, 'tcp'], [4, 'ws']] as const) {
        const c = await mqttLogin('ingest', k.key, v, t);
        expect(await subscribeCodes(c, 'anything/#', 1)).toEqual([1]);
        c.publish('anything/here', 'x');
        expect(await nextMessage(c)).toEqual({ topic: 'anything/here', payload: 'x' });
        c.end(true);
      }
      // The username must name the key: its name and its org.
      expect(await refusalCode(url(), { username: `other@${orgId}`, password: k.key, protocolVersion: 5 })).toBe(0x86);
      expect(await refusalCode(url(), { username: 'ingest@org_aaaaaaaaaaaa', password: k.key, protocolVersion: 4 })).toBe(4);
      expect(await refusalCode(url(), { username: `ingest@${orgId}`, password: tamper(k.key), protocolVersion: 5 })).toBe(0x86);
    });

    it('gives rk_ only what its mqtt: scopes allow, and nothing without them', async () => {
      const k = await createKey(admin, {
        name: 'sensor-gw',
        type: 'restricted',
        scopes: ['mqtt:publish:events/#', 'mqtt:subscribe:commands/{user_id}/#'],
      });
      const c = await mqttLogin('sensor-gw', k.key);
      expect(await publishCode(c, 'events/temp', '21')).toBe(0);
      expect(await publishCode(c, 'other/temp', '21')).toBe(0x87);
      expect(await subscribeCodes(c, 'commands/sensor-gw/#', 1)).toEqual([1]);
      expect(await subscribeCodes(c, 'commands/other/#', 1)).toEqual([0x87]);
      const none = await createKey(admin, { name: 'rest-only', type: 'restricted', scopes: ['tokens:read'] });
      expect(await refusalCode(url(), { username: `rest-only@${orgId}`, password: none.key, protocolVersion: 5 })).toBe(0x87);
    });

    it('runs bcrypt at most once per key per cache period on the edge, however many CONNECTs', async () => {
      const k = await createKey(admin, { name: 'burst', type: 'secret' });
      const keys = signet.service!.app.get(ApiKeysService);
      const keyAuth = signet.edgeHandle!.keyAuth!;
      const bcryptBefore = keys.stats.bcryptChecks;
      const callsBefore = keyAuth.stats.verifierCalls;
      const burst = await Promise.all(Array.from({ length: 10 }, () => mqttLogin('burst', k.key)));
      for (let i = 0; i < 5; i++) (await mqttLogin('burst', k.key)).end(true);
      burst.forEach((c) => c.end(true));
      expect(keyAuth.stats.verifierCalls - callsBefore).toBe(1);
      expect(keys.stats.bcryptChecks - bcryptBefore).toBe(1);
    });
  });

  describe('rotation and revocation', () => {
    it('keeps the old key working during the grace period, then refuses it everywhere and closes its sessions', async () => {
      const old = await createKey(admin, { name: 'rotating', type: 'secret' });
      const oldSession = await mqttLogin('rotating', old.key);
      const oldClosed = serverClosed(oldSession);
      // Cached everywhere before the rotation.
      expect((await anonymous.withKey(old.key).call('GET', '/v1/tokens')).status).toBe(200);

      const res = await admin.call('POST', `/v1/keys/${old.id}/rotate`, { grace_seconds: 2 });
      expect(res.status).toBe(201);
      const rotated = res.body as unknown as KeyBody & { key: string };
      expect(rotated.key).toMatch(/^sk_/);
      expect(rotated.id).not.toBe(old.id);
      expect(rotated).toMatchObject({ name: 'rotating', rotated_from: old.id });
      expect(rotated.previous).toMatchObject({ id: old.id, replaced_by: rotated.id, status: 'active' });
      expectProblem(await admin.call('POST', `/v1/keys/${old.id}/rotate`, {}), 409, 'key_already_rotated');

      const newSession = await mqttLogin('rotating', rotated.key);
      let newClosed = false;
      newSession.on('close', () => (newClosed = true));
      // During the grace period both keys work, on REST and MQTT.
      expect((await anonymous.withKey(old.key).call('GET', '/v1/tokens')).status).toBe(200);
      expect((await anonymous.withKey(rotated.key).call('GET', '/v1/tokens')).status).toBe(200);
      (await mqttLogin('rotating', old.key)).end(true);

      const closed = await Promise.race([oldClosed, new Promise<null>((r) => setTimeout(() => r(null), 6000))]);
      expect(closed).toEqual({ reasonCode: 0x98 });
      expectProblem(await anonymous.withKey(old.key).call('GET', '/v1/tokens'), 401, 'invalid_api_key');
      expect(await refusalCode(url(), { username: `rotating@${orgId}`, password: old.key, protocolVersion: 5 })).toBe(0x86);
      expect((await admin.call('GET', `/v1/keys/${old.id}`)).body['status']).toBe('expired');
      // The new key and its session are untouched.
      expect((await anonymous.withKey(rotated.key).call('GET', '/v1/tokens')).status).toBe(200);
      expect(newClosed).toBe(false);
      expect(await publishCode(newSession, 'still/here', 'x')).toBe(0);
    });

    it('revokes at once: REST refuses, live sessions close, new CONNECTs are refused', async () => {
      const k = await createKey(admin, { name: 'doomed', type: 'secret' });
      const session = await mqttLogin('doomed', k.key, 5, 'ws');
      const closed = serverClosed(session);
      expect((await anonymous.withKey(k.key).call('GET', '/v1/tokens')).status).toBe(200);
      const t0 = Date.now();
      expect((await admin.call('DELETE', `/v1/keys/${k.id}`)).status).toBe(204);
      expect(await closed).toEqual({ reasonCode: 0x98 });
      expect(Date.now() - t0).toBeLessThan(2000);
      expectProblem(await anonymous.withKey(k.key).call('GET', '/v1/tokens'), 401, 'invalid_api_key');
      expect(await refusalCode(url(), { username: `doomed@${orgId}`, password: k.key, protocolVersion: 4 })).toBe(4);
      expect((await admin.call('GET', `/v1/keys/${k.id}`)).body).toMatchObject({ status: 'revoked', revoked_at: expect.any(String) });
    });

    it('rotation with no grace revokes the old key at once', async () => {
      const old = await createKey(admin, { name: 'instant', type: 'secret' });
      const session = await mqttLogin('instant', old.key);
      const closed = serverClosed(session);
      const res = await admin.call('POST', `/v1/keys/${old.id}/rotate`, { grace_seconds: 0 });
      expect(res.status).toBe(201);
      expect(await closed).toEqual({ reasonCode: 0x98 });
      expectProblem(await anonymous.withKey(old.key).call('GET', '/v1/tokens'), 401, 'invalid_api_key');
    });
  });

  describe.each([4, 5] as const)("the org's will policy for key sessions, protocol version %i", (version) => {
    it('publishes the will of a revoked or rotated-out key session only once the org says publish', async () => {
      const topic = `status/keydev_${version}`;
      const watcher = await mqttLogin('bootstrap', bootKey, version);
      await watcher.subscribeAsync('status/#', { qos: 1 });
      // A device on a key of its own, with a will; the key then ends (revoked, or rotated with no grace).
      const deviceWithWill = async (name: string, type: 'secret' | 'restricted') => {
        const k = await createKey(admin, { name, type, ...(type === 'restricted' ? { scopes: ['mqtt:publish:status/#'] } : {}) });
        const device = track(
          await connect(url('ws'), {
            username: `${name}@${orgId}`,
            password: k.key,
            protocolVersion: version,
            will: { topic, payload: Buffer.from(`${name} offline`), qos: 1, retain: false },
          }),
        );
        return { k, closed: serverClosed(device) };
      };
      const revoke = async (name: string) => {
        const { k, closed } = await deviceWithWill(name, 'restricted');
        expect((await admin.call('DELETE', `/v1/keys/${k.id}`)).status).toBe(204);
        await closed;
      };
      const rotateOut = async (name: string) => {
        const { k, closed } = await deviceWithWill(name, 'secret');
        expect((await admin.call('POST', `/v1/keys/${k.id}/rotate`, { grace_seconds: 0 })).status).toBe(201);
        await closed;
      };

      expect((await admin.call('GET', '/v1/org/settings')).body).toEqual({ will_on_revoke: 'suppress' });
      await revoke(`quiet-rk-${version}`);
      await rotateOut(`quiet-sk-${version}`);
      await noMessage(watcher, 500);

      try {
        const changed = await admin.call('PATCH', '/v1/org/settings', { will_on_revoke: 'publish' });
        expect({ status: changed.status, body: changed.body }).toEqual({ status: 200, body: { will_on_revoke: 'publish' } });
        // Keys verified after the change carry it (new keys here: no verdict of theirs is cached anywhere).
        let will = nextMessage(watcher);
        await revoke(`loud-rk-${version}`);
        expect(await will).toEqual({ topic, payload: `loud-rk-${version} offline` });
        will = nextMessage(watcher);
        await rotateOut(`loud-sk-${version}`);
        expect(await will).toEqual({ topic, payload: `loud-sk-${version} offline` });
      } finally {
        // Back to the default for the rest of the suite.
        await admin.call('PATCH', '/v1/org/settings', { will_on_revoke: 'suppress' });
      }
    });
  });

  describe('no escalation', () => {
    let manager: KeyBody & { key: string };
    let asManager: TokenApi;

    beforeAll(async () => {
      manager = await createKey(admin, {
        name: 'manager',
        type: 'restricted',
        scopes: ['keys:write', 'keys:read', 'tokens:write', 'mqtt:publish:events/#', 'mqtt:subscribe:events/#'],
        ip_allowlist: ['127.0.0.0/8', '::1'],
      });
      asManager = anonymous.withKey(manager.key);
    });

    it('cannot create a key with rights it does not hold', async () => {
      expectProblem(await asManager.call('POST', '/v1/keys', { name: 'x', type: 'secret' }), 403, 'privilege_escalation');
      expectProblem(await asManager.call('POST', '/v1/keys', { name: 'x', type: 'restricted', scopes: ['tokens:read'] }), 403, 'privilege_escalation');
      expectProblem(await asManager.call('POST', '/v1/keys', { name: 'x', type: 'restricted', scopes: ['mqtt:publish:#'] }), 403, 'privilege_escalation');
      expectProblem(
        await asManager.call('POST', '/v1/keys', { name: 'x', type: 'restricted', scopes: ['tokens:write'], ip_allowlist: ['10.0.0.0/8'] }),
        403,
        'privilege_escalation',
      );
      // Within its rights: allowed, and the allowlist is inherited when omitted.
      const child = await createKey(asManager, { name: 'child', type: 'restricted', scopes: ['tokens:revoke', 'mqtt:publish:events/a/#'] });
      expect(child.ip_allowlist).toEqual(['127.0.0.0/8', '::1']);
      const narrower = await createKey(asManager, { name: 'child2', type: 'restricted', scopes: ['keys:read'], ip_allowlist: ['127.0.0.1'] });
      expect(narrower.ip_allowlist).toEqual(['127.0.0.1']);
    });

    it('cannot issue a token with MQTT rights it does not hold', async () => {
      expectProblem(await asManager.call('POST', '/v1/tokens', { user_id: 'u1' }), 403, 'privilege_escalation');
      expectProblem(await asManager.call('POST', '/v1/tokens', { user_id: 'u1', permissions: { publish: ['#'] } }), 403, 'privilege_escalation');
      const ok = await asManager.call('POST', '/v1/tokens', { user_id: 'u1', permissions: { publish: ['events/{user_id}/#'], subscribe: ['events/+'] } });
      expect(ok.status).toBe(201);
      // A token it issued can be revoked with tokens:write (which holds tokens:revoke).
      expect((await asManager.call('DELETE', `/v1/tokens/${String(ok.body['token_id'])}`)).status).toBe(204);
    });

    it('cannot rotate or revoke a key that holds more than it does', async () => {
      const strong = await createKey(admin, { name: 'strong', type: 'secret' });
      expectProblem(await asManager.call('POST', `/v1/keys/${strong.id}/rotate`, {}), 403, 'privilege_escalation');
      expectProblem(await asManager.call('DELETE', `/v1/keys/${strong.id}`), 403, 'privilege_escalation');
      const reader = await createKey(admin, { name: 'reader', type: 'restricted', scopes: ['keys:read'] });
      expectProblem(await anonymous.withKey(reader.key).call('POST', '/v1/keys', { name: 'x', type: 'restricted', scopes: ['keys:read'] }), 403, 'insufficient_scope');
      expect((await anonymous.withKey(reader.key).call('GET', '/v1/keys')).status).toBe(200);
    });
  });

  describe('IP allowlists', () => {
    it.each<[string, string[], boolean]>([
      ['an IPv4 block around the caller', ['127.0.0.0/8'], true],
      ['the caller as an IPv4-mapped IPv6 block', ['::ffff:127.0.0.0/104'], true],
      ['the caller among IPv6 blocks', ['2001:db8::/32', '127.0.0.1'], true],
      ['only other IPv4 blocks', ['10.0.0.0/8'], false],
      ['only IPv6 blocks', ['2001:db8::/32', '::1'], false],
    ])('with %s %j: REST and MQTT admit the key = %s', async (_label, allowlist, inside) => {
      const name = `ip-${Math.random().toString(36).slice(2, 8)}`;
      const k = await createKey(admin, { name, type: 'secret', ip_allowlist: allowlist });
      const rest = await anonymous.withKey(k.key).call('GET', '/v1/tokens');
      if (inside) {
        expect(rest.status).toBe(200);
        (await mqttLogin(name, k.key)).end(true);
      } else {
        expectProblem(rest, 403, 'ip_not_allowed');
        expect(await refusalCode(url(), { username: `${name}@${orgId}`, password: k.key, protocolVersion: 5 })).toBe(0x87);
        expect(await refusalCode(url(), { username: `${name}@${orgId}`, password: k.key, protocolVersion: 4 })).toBe(5);
        const usage = await waitFor(async () => {
          const u = await usageOf(k.id);
          return u.totals.denials === 3 ? u : null;
        });
        expect(usage.totals.api_calls).toBe(0);
      }
    });
  });

  describe('usage analytics', () => {
    it('counts API calls, MQTT connects, messages, bytes and denials per key', async () => {
      const k = await createKey(admin, {
        name: 'metered',
        type: 'restricted',
        scopes: ['tokens:read', 'mqtt:publish:metrics/#', 'mqtt:subscribe:metrics/#'],
      });
      const asKey = anonymous.withKey(k.key);
      for (let i = 0; i < 3; i++) expect((await asKey.call('GET', '/v1/tokens')).status).toBe(200);
      expectProblem(await asKey.call('POST', '/v1/tokens', { user_id: 'u' }), 403, 'insufficient_scope');
      const a = await mqttLogin('metered', k.key);
      const b = await mqttLogin('metered', k.key, 4, 'ws');
      for (let i = 0; i < 3; i++) expect(await publishCode(a, 'metrics/cpu', '0123456789')).toBe(0);
      expect(await publishCode(a, 'forbidden/x', 'no')).toBe(0x87);
      expect(await subscribeCodes(b, 'forbidden/#')).toEqual([0x80]);

      const expected = { api_calls: 3, mqtt_connects: 2, messages_published: 3, bytes_published: 30, denials: 3 };
      const usage = await waitFor(
        async () => {
          const u = await usageOf(k.id);
          return JSON.stringify(u.totals) === JSON.stringify(expected) ? u : null;
        },
        { timeoutMs: 5000, message: 'usage counters' },
      );
      expect(usage.buckets.length).toBeGreaterThanOrEqual(24);
      const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000).toISOString();
      expect(usage.buckets.find((x) => x.start === hour)).toMatchObject(expected);
      const daily = await usageOf(k.id, '?interval=day');
      expect(daily.totals).toEqual(expected);
      expect(daily.buckets.length).toBeLessThanOrEqual(2);
      // The counts reach PostgreSQL.
      const ds = signet.service!.app.get<DataSource>(DATA_SOURCE);
      await waitFor(async () => {
        const rows: Array<{ n: string }> = await ds.query(`SELECT sum(messages_published) AS n FROM api_key_usage WHERE key_id = $1`, [k.id]);
        return Number(rows[0]?.n) === 3;
      });
    });

    it('loses no count on a clean stop', async () => {
      const k = await createKey(admin, { name: 'restart', type: 'secret' });
      const c = await mqttLogin('restart', k.key);
      for (let i = 0; i < 4; i++) expect(await publishCode(c, 'x/y', 'abcd')).toBe(0);
      expect((await anonymous.withKey(k.key).call('GET', '/v1/tokens')).status).toBe(200);
      c.end(true);
      await signet.close();
      signet = await startSignet(backend, { ...FAST_ENV, SIGNET_USAGE_FLUSH_MS: '3600000' });
      ({ anonymous, endpoints } = reach(signet));
      admin = anonymous.withKey(bootKey);
      const u = await usageOf(k.id);
      expect(u.totals).toMatchObject({ api_calls: 1, mqtt_connects: 1, messages_published: 4, bytes_published: 16 });
    });
  });
});


/** A REST call from a chosen loopback source address (the whole 127/8 is local on Linux). */
function callFrom(port: number, source: string, key: string, path = '/v1/tokens'): Promise<{ status: number; code?: string; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'GET', localAddress: source, headers: { authorization: `Bearer ${key}` } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          const body = text ? (JSON.parse(text) as { code?: string }) : {};
          resolve({ status: res.statusCode ?? 0, code: body.code, retryAfter: res.headers['retry-after'] });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('guess throttling (PostgreSQL + Redis)', () => {
  let backend: Backend;
  let signet: SignetProcess;
  let admin: TokenApi;
  let orgId: string;
  let port: number;

  beforeAll(async () => {
    backend = await realBackend('apikeys_throttle');
    signet = await startSignet(backend, {
      SIGNET_KEY_THROTTLE_IP_FAILURES: '8',
      SIGNET_KEY_THROTTLE_KEY_FAILURES: '3',
      SIGNET_KEY_CACHE_MS: '300',
    });
    orgId = signet.service!.bootstrap!.orgId;
    port = signet.ports.http!;
    admin = new TokenApi(`http://127.0.0.1:${port}`, signet.service!.bootstrap!.apiKey);
  });
  afterAll(async () => {
    await signet?.close();
    await backend?.cleanup();
  });

  it('throttles guesses per key id and per address without locking out the key holder', async () => {
    const res = await admin.call('POST', '/v1/keys', { name: 'target', type: 'secret' });
    const target = res.body as unknown as { id: string; key: string };
    const guess = () => newApiKey('secret', target.id).key;

    // An attacker at 127.0.0.2 guesses the key id's secret: refused, then throttled (no more bcrypt).
    for (let i = 0; i < 3; i++) expect(await callFrom(port, '127.0.0.2', guess())).toMatchObject({ status: 401, code: 'invalid_api_key' });
    const throttled = await callFrom(port, '127.0.0.2', guess());
    expect(throttled).toMatchObject({ status: 429, code: 'too_many_attempts' });
    expect(Number(throttled.retryAfter)).toBeGreaterThan(0);

    // The holder, from an address that never failed, is not locked out — nor later from the attacker's own address.
    expect((await callFrom(port, '127.0.0.3', target.key)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 400)); // past the verdict cache
    expect((await callFrom(port, '127.0.0.2', target.key)).status).toBe(200);
    expect((await callFrom(port, '127.0.0.3', target.key)).status).toBe(200);

    // Per address: 127.0.0.4 burns its allowance on junk, then is throttled for anything new…
    for (let i = 0; i < 8; i++) expect((await callFrom(port, '127.0.0.4', `sk_junk${i}`)).status).toBe(401);
    expect(await callFrom(port, '127.0.0.4', newApiKey('secret').key)).toMatchObject({ status: 429, code: 'too_many_attempts' });
    // …but a key already proven good still works from there, and other addresses are unaffected.
    expect((await callFrom(port, '127.0.0.4', target.key)).status).toBe(200);
    expect(await callFrom(port, '127.0.0.5', newApiKey('secret').key)).toMatchObject({ status: 401 });
  });

  it('throttles MQTT guesses the same way (CONNACK server unavailable) and still admits the holder', async () => {
    const res = await admin.call('POST', '/v1/keys', { name: 'mqtt-target', type: 'secret' });
    const target = res.body as unknown as { id: string; key: string };
    const mqttUrl = brokerUrl({ mqttPort: signet.ports.mqtt!, wsPort: signet.ports.ws! }, 'tcp');
    const username = `mqtt-target@${orgId}`;
    (await connect(mqttUrl, { username, password: target.key, protocolVersion: 5 })).end(true);
    const codes: Array<number | undefined> = [];
    for (let i = 0; i < 5; i++) codes.push(await refusalCode(mqttUrl, { username, password: newApiKey('secret', target.id).key, protocolVersion: 5 }));
    expect(codes.slice(0, 3)).toEqual([0x86, 0x86, 0x86]);
    expect(codes.slice(3)).toEqual([0x88, 0x88]);
    await new Promise((r) => setTimeout(r, 400));
    const holder = await connect(mqttUrl, { username, password: target.key, protocolVersion: 5 });
    holder.end(true);
  });
});

describe('apikey-service and mqtt-edge as separate processes (gRPC, PostgreSQL, Redis)', () => {
  let db: { url: string; drop(): Promise<void> };
  let keyService: SpawnedApp;
  let edge: SpawnedApp;
  let admin: TokenApi;
  let orgId: string;
  let env: Record<string, string>;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('signet_apikeys_procs');
    env = {
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl(),
      SIGNET_REDIS_PREFIX: uniquePrefix('apikeys-procs'),
      SIGNET_MASTER_KEY: randomBytes(32).toString('base64'),
      SIGNET_LOG_LEVEL: 'warn',
      SIGNET_USAGE_FLUSH_MS: '3600000',
    };
    keyService = await SpawnedApp.start('apikey-service', testEnv(env)).ready();
    const bootKey = /^(sk_\S+)$/m.exec(keyService.stdout)?.[1];
    orgId = /Bootstrap API key for (org_[0-9a-z]{12})/.exec(keyService.stdout)?.[1] ?? '';
    expect(bootKey).toBeDefined();
    admin = new TokenApi(`http://127.0.0.1:${keyService.port('HTTP API')}`, bootKey);
    const grpc = `127.0.0.1:${keyService.port('gRPC')}`;
    edge = await SpawnedApp.start('mqtt-edge', testEnv({ ...env, SIGNET_APIKEY_SERVICE_GRPC: grpc, SIGNET_TOKEN_SERVICE_GRPC: grpc })).ready();
  });
  afterAll(async () => {
    for (const c of clients.splice(0)) c.end(true);
    await edge?.stop();
    await keyService?.stop();
    await db?.drop();
  });

  it("carries the org's will policy in the gRPC verdict: a revoked key session's will goes out only under publish", async () => {
    const mqttUrl = brokerUrl({ mqttPort: edge.port('MQTT'), wsPort: edge.port('WebSocket') }, 'tcp');
    const bootKey = /^(sk_\S+)$/m.exec(keyService.stdout)?.[1] ?? '';
    const watcher = await connect(mqttUrl, { username: `bootstrap@${orgId}`, password: bootKey, protocolVersion: 5 });
    clients.push(watcher);
    await watcher.subscribeAsync('status/#', { qos: 1 });
    const revokeDeviceWithWill = async (name: string): Promise<void> => {
      const created = await admin.call('POST', '/v1/keys', { name, type: 'restricted', scopes: ['mqtt:publish:status/#'] });
      expect(created.status).toBe(201);
      const key = created.body as unknown as { id: string; key: string };
      const device = await connect(mqttUrl, {
        username: `${name}@${orgId}`,
        password: key.key,
        protocolVersion: 5,
        will: { topic: `status/${name}`, payload: Buffer.from('offline'), qos: 1, retain: false },
      });
      clients.push(device);
      const closed = serverClosed(device);
      expect((await admin.call('DELETE', `/v1/keys/${key.id}`)).status).toBe(204);
      expect(await closed).toEqual({ reasonCode: 0x98 });
    };

    await revokeDeviceWithWill('quiet');
    await noMessage(watcher, 500);
    // The setting lives with the token service's API (PATCH /v1/org/settings), not in this key-only
    // process: write the row it writes. The key service reads it with the key, the edge gets it over gRPC.
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    try {
      await pg.query(`INSERT INTO org_settings (org_id, will_on_revoke) VALUES ($1, 'publish')`, [orgId]);
      const will = nextMessage(watcher);
      await revokeDeviceWithWill('loud');
      expect(await will).toEqual({ topic: 'status/loud', payload: 'offline' });
    } finally {
      await pg.query(`DELETE FROM org_settings WHERE org_id = $1`, [orgId]);
      await pg.end();
    }
  });

  it('verifies keys over gRPC, enforces revocation on the edge at once, and reports usage on a clean stop', async () => {
    const created = await admin.call('POST', '/v1/keys', { name: 'remote', type: 'restricted', scopes: ['mqtt:publish:up/#', 'mqtt:subscribe:up/#'] });
    expect(created.status).toBe(201);
    const key = created.body as unknown as { id: string; key: string };
    const mqttUrl = brokerUrl({ mqttPort: edge.port('MQTT'), wsPort: edge.port('WebSocket') }, 'tcp');
    const session = await connect(mqttUrl, { username: `remote@${orgId}`, password: key.key, protocolVersion: 5 });
    clients.push(session);
    expect(await publishCode(session, 'up/1', 'hello')).toBe(0);
    expect(await publishCode(session, 'down/1', 'nope')).toBe(0x87);
    expect(await refusalCode(mqttUrl, { username: `remote@${orgId}`, password: newApiKey('restricted', key.id).key, protocolVersion: 5 })).toBe(0x86);

    const closed = serverClosed(session);
    expect((await admin.call('DELETE', `/v1/keys/${key.id}`)).status).toBe(204);
    expect(await closed).toEqual({ reasonCode: 0x98 });
    expect(await refusalCode(mqttUrl, { username: `remote@${orgId}`, password: key.key, protocolVersion: 5 })).toBe(0x86);

    // Usage is reported every hour here: only the edge's clean stop can deliver it in time.
    expect(await edge.stop('SIGTERM')).toBe(0);
    const usage = await waitFor(async () => {
      const res = await admin.call('GET', `/v1/keys/${key.id}/usage`);
      const totals = (res.body as unknown as UsageBody).totals;
      return totals.mqtt_connects === 1 ? totals : null;
    });
    expect(usage).toMatchObject({ mqtt_connects: 1, messages_published: 1, bytes_published: 5, denials: 1 });
  });
});
