/**
 * Auth webhooks and the authenticator chain, end to end: the all-in-one on
 * the machine's PostgreSQL and Redis, a real HTTP receiver on loopback (the
 * operator allows HTTP and loopback for it), devices connecting with the real
 * `mqtt` client.
 */
import type { MqttClient } from 'mqtt';

import type { SignetProcess } from '@signet/runtime';

import { TokenApi } from '../support/api';
import { brokerUrl, connect, publishCode, refusalCode, serverClosed, subscribeCodes } from '../support/mqtt';
import { Backend, reach, realBackend, startSignet } from '../support/signet';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

jest.setTimeout(60_000);

const CONNECT_TIMEOUT_MS = 3000;
const WEBHOOK_TIMEOUT_MS = 800;

describe('auth webhooks (all-in-one, PostgreSQL + Redis, real receiver, real mqtt client)', () => {
  let backend: Backend;
  let signet: SignetProcess;
  let admin: TokenApi;
  let orgId: string;
  let rx: WebhookReceiver;
  let url: string;

  beforeAll(async () => {
    rx = await startWebhookReceiver();
    url = rx.url;
    backend = await realBackend('authwh');
    signet = await startSignet(backend, {
      SIGNET_WEBHOOK_ALLOW_HTTP: 'true',
      SIGNET_WEBHOOK_ALLOW_PRIVATE: 'true',
      SIGNET_WEBHOOK_TIMEOUT_MS: String(WEBHOOK_TIMEOUT_MS),
      SIGNET_MQTT_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
    });
    admin = reach(signet).anonymous.withKey(signet.service!.bootstrap!.apiKey);
    orgId = signet.service!.bootstrap!.orgId;
  });

  afterAll(async () => {
    await signet?.close();
    await backend?.cleanup();
    await rx?.close();
  });

  const mqttUrl = () => brokerUrl(reach(signet).endpoints, 'tcp');
  const device = (name: string, password: string, clientId = name) => ({ username: `${name}@${orgId}`, password, clientId, protocolVersion: 5 as const });

  it('refuses a non-https URL unless allowed, and a chain with unknown steps', async () => {
    const bad = await admin.call('PUT', '/v1/auth-webhook', { url: 'ftp://example.com/x' });
    expect(bad.status).toBe(400);
    expect(bad.body['code']).toBe('invalid_webhook_url');
    const chain = await admin.call('PUT', '/v1/authenticator-chain', { steps: ['token', 'carrier_pigeon'] });
    expect(chain.status).toBe(400);
    expect(chain.body['code']).toBe('invalid_authenticator_chain');
    const missing = await admin.call('GET', '/v1/auth-webhook');
    expect(missing.status).toBe(404);
    expect(missing.body['code']).toBe('webhook_not_found');
    const nothingToDelete = await admin.call('DELETE', '/v1/auth-webhook');
    expect([nothingToDelete.status, nothingToDelete.body['code']]).toEqual([404, 'webhook_not_found']);
  });

  it('before any chain is set, the default chain decides and a webhook is never called', async () => {
    const current = await admin.call('GET', '/v1/authenticator-chain');
    expect(current.body).toEqual({ steps: ['token', 'api_key', 'client_certificate'], is_default: true });
    await expect(refusalCode(mqttUrl(), device('dev-1', 'let-me-in'))).resolves.toBe(0x86);
    expect(rx.calls).toHaveLength(0);
  });

  it('registers the webhook (secret once) and a chain that asks it', async () => {
    const put = await admin.call('PUT', '/v1/auth-webhook', { url });
    expect(put.status).toBe(200);
    rx.secret = String(put.body['secret']);
    expect(rx.secret).toMatch(/^whsec_/);
    const get = await admin.call('GET', '/v1/auth-webhook');
    expect(get.body).toMatchObject({ url, fail_mode: 'deny', send_password: false });
    expect(get.body).not.toHaveProperty('secret');
    // The receiver checks passwords, so this org opts in to send them.
    expect((await admin.call('PUT', '/v1/auth-webhook', { url, send_password: true })).body).not.toHaveProperty('secret');
    const chain = await admin.call('PUT', '/v1/authenticator-chain', { steps: ['token', 'webhook'] });
    expect(chain.body).toEqual({ steps: ['token', 'webhook'], is_default: false });
  });

  it('a webhook-authenticated device publishes inside its permissions and is refused outside them', async () => {
    const client: MqttClient = await connect(mqttUrl(), device('dev-1', 'let-me-in'));
    try {
      await expect(publishCode(client, 'devices/dev-1/temp', '21.5')).resolves.toBe(0);
      await expect(publishCode(client, 'devices/dev-2/temp', '99')).resolves.toBe(0x87);
      await expect(subscribeCodes(client, 'devices/dev-1/#', 1)).resolves.toEqual([1]);
      await expect(subscribeCodes(client, 'devices/#', 1)).resolves.toEqual([0x87]);
    } finally {
      client.end(true);
    }
    const call = rx.calls.at(-1)!;
    expect(call.verified).toBe(true);
    expect(call.body).toMatchObject({ event: 'client.connect', client_id: 'dev-1', username: `dev-1@${orgId}`, password: 'let-me-in', protocol_version: 5, listener: 'tcp' });
  });

  it('a cached allow answers a reconnect without calling the webhook', async () => {
    const before = rx.calls.length;
    const client = await connect(mqttUrl(), device('dev-1', 'let-me-in'));
    client.end(true);
    expect(rx.calls.length).toBe(before);
  });

  it('a deny is CONNACK 0x86; an ignore passes to the end of the chain, which denies', async () => {
    await expect(refusalCode(mqttUrl(), device('dev-3', 'wrong'))).resolves.toBe(0x86);
    await expect(refusalCode(mqttUrl(), device('stranger', 'let-me-in'))).resolves.toBe(0x86);
  });

  it('tokens still connect through the token step', async () => {
    const creds = await admin.issue({ user_id: 'user_a', permissions: { publish: ['users/{user_id}/#'] } });
    const client = await connect(mqttUrl(), { ...creds.mqtt_credentials, protocolVersion: 5 });
    client.end(true);
  });

  it('a hanging webhook gives CONNACK 0x88 (never 0x87) within the CONNECT timeout; a 500 too', async () => {
    const started = Date.now();
    await expect(refusalCode(mqttUrl(), device('hang', 'let-me-in'))).resolves.toBe(0x88);
    expect(Date.now() - started).toBeLessThan(CONNECT_TIMEOUT_MS);
    await expect(refusalCode(mqttUrl(), device('broken', 'let-me-in'))).resolves.toBe(0x88);
  });

  it('fail mode ignore hands a failed webhook to the next step', async () => {
    await admin.call('PUT', '/v1/auth-webhook', { url, fail_mode: 'ignore' });
    await admin.call('PUT', '/v1/authenticator-chain', { steps: ['webhook', 'token'] });
    // The webhook cannot answer; the token step then decides (this is no token): 0x86, not 0x88.
    await expect(refusalCode(mqttUrl(), device('broken', 'let-me-in'))).resolves.toBe(0x86);
    await admin.call('PUT', '/v1/auth-webhook', { url, fail_mode: 'deny' });
  });

  it('expire_at closes the session with DISCONNECT 0xA0', async () => {
    const client = await connect(mqttUrl(), device('short', 'let-me-in'));
    await expect(serverClosed(client)).resolves.toEqual({ reasonCode: 0xa0 });
  });

  it('rotation: calls carry both signatures, each verifies', async () => {
    const old = rx.secret;
    const rotated = await admin.call('POST', '/v1/auth-webhook/rotate-secret', {});
    expect(rotated.status).toBe(200);
    const next = String(rotated.body['secret']);
    expect(next).not.toBe(old);
    expect(rotated.body['previous_secret_valid_until']).toEqual(expect.any(String));
    // The receiver still holds the old secret: it keeps verifying until it switches.
    const client = await connect(mqttUrl(), device('dev-9', 'let-me-in'));
    client.end(true);
    expect(rx.calls.at(-1)!.verified).toBe(true);
    rx.secret = next;
    const again = await connect(mqttUrl(), device('dev-10', 'let-me-in'));
    again.end(true);
    expect(rx.calls.at(-1)!.verified).toBe(true);
  });

  it("revoking a webhook user closes its sessions (0x98) and purges its cached verdicts", async () => {
    const bad = await admin.call('POST', '/v1/auth-webhook/revocations', { user_id: 'a/b' });
    expect(bad.status).toBe(400);
    expect(bad.body['code']).toBe('invalid_user_id');
    const client = await connect(mqttUrl(), device('dev-1', 'let-me-in'));
    const closed = serverClosed(client);
    const revoked = await admin.call('POST', '/v1/auth-webhook/revocations', { user_id: 'dev-1' });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toEqual({ credential_id: `whu:${orgId}:dev-1` });
    await expect(closed).resolves.toEqual({ reasonCode: 0x98 });
    // The cached allow is gone and the deny holds: a reconnect is refused, not let in by the cache.
    await expect(refusalCode(mqttUrl(), device('dev-1', 'let-me-in'))).resolves.toBe(0x86);
    // Another user of the org is unaffected.
    (await connect(mqttUrl(), device('dev-9', 'let-me-in'))).end(true);
  });

  it('counts each decision by its deciding step', async () => {
    const res = await fetch(`http://127.0.0.1:${signet.ports.http}/metrics`);
    const text = await res.text();
    expect(text).toMatch(/signet_mqtt_auth_decisions_total\{step="webhook",result="allow"\} [1-9]/);
    expect(text).toMatch(/signet_mqtt_auth_decisions_total\{step="end_of_chain",result="bad_credentials"\} [1-9]/);
    expect(text).toMatch(/signet_mqtt_auth_decisions_total\{step="webhook",result="server_unavailable"\} [1-9]/);
    // The service side: calls by outcome, a timeout among them.
    expect(text).toMatch(/signet_auth_webhook_calls_total\{outcome="allow"\} [1-9]/);
    expect(text).toMatch(/signet_auth_webhook_calls_total\{outcome="timeout"\} [1-9]/);
  });
});
