/**
 * The split deployment: token-service, auth-webhooks and mqtt-edge as
 * separate built processes over PostgreSQL and Redis. The edge reads the
 * org's chain, webhook verdicts and client-certificate trust over gRPC
 * (SIGNET_AUTH_WEBHOOKS_GRPC) and hears of their changes over the revocation
 * bus; the auth-webhook service calls a real receiver on loopback.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { createTestDatabase, redisUrl, uniquePrefix, waitFor } from '@signet/testing';

import { type ClientCa, makeClientCa } from '../../libs/auth-webhooks/src/testing/client-pki';
import { makeTestPki, type TestPki } from '../../libs/mqtt/edge/src/testing/certs';
import { TokenApi } from '../support/api';
import { brokerUrl, connect, publishCode, refusalCode, serverClosed } from '../support/mqtt';
import { testEnv } from '../support/signet';
import { SpawnedApp, startSplitEdge } from '../support/spawn';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

jest.setTimeout(90_000);

const CONNECT_TIMEOUT_MS = 3000;

describe('auth-webhooks and mqtt-edge as separate processes (gRPC, PostgreSQL, Redis)', () => {
  let db: { url: string; drop(): Promise<void> };
  let tokens: SpawnedApp;
  let webhooks: SpawnedApp;
  let webhooks2: SpawnedApp;
  let edge: SpawnedApp;
  let rx: WebhookReceiver;
  let orgId: string;
  let admin: TokenApi;
  let bootKey: string;
  let serverPki: TestPki;
  let devices: ClientCa;

  beforeAll(async () => {
    rx = await startWebhookReceiver();
    serverPki = makeTestPki();
    devices = makeClientCa('split');
    const tls = serverPki.issue('edge', 'localhost');
    db = await createTestDatabase('signet_authwh_procs');
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl(),
      SIGNET_REDIS_PREFIX: uniquePrefix('authwh-procs'),
      SIGNET_MASTER_KEY: randomBytes(32).toString('base64'),
      SIGNET_LOG_LEVEL: 'warn',
      SIGNET_WEBHOOK_ALLOW_HTTP: 'true',
      SIGNET_WEBHOOK_ALLOW_PRIVATE: 'true',
      SIGNET_WEBHOOK_TIMEOUT_MS: '800',
      SIGNET_MQTT_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
    };
    // One after the other: the first migrates and bootstraps.
    tokens = await SpawnedApp.start('token-service', testEnv(env)).ready();
    webhooks = await SpawnedApp.start('auth-webhooks', testEnv(env)).ready();
    // A second replica: the edge talks to the first only.
    webhooks2 = await SpawnedApp.start('auth-webhooks', testEnv(env)).ready();
    bootKey = /^(sk_\S+)$/m.exec(tokens.stdout)?.[1] ?? '';
    orgId = /Bootstrap API key for (org_[0-9a-z]{12})/.exec(tokens.stdout)?.[1] ?? '';
    admin = new TokenApi(`http://127.0.0.1:${webhooks.port('HTTP API')}`, bootKey);
    const put = await admin.call('PUT', '/v1/auth-webhook', { url: rx.url, send_password: true });
    expect(put.status).toBe(200);
    rx.secret = String(put.body['secret']);
    expect((await admin.call('PUT', '/v1/authenticator-chain', { steps: ['webhook'] })).status).toBe(200);
    edge = await startSplitEdge({ ...env, SIGNET_TLS_CERT: tls.certFile, SIGNET_TLS_KEY: tls.keyFile }, { tokens, webhooks });
  });
  afterAll(async () => {
    await edge?.stop();
    await webhooks?.stop();
    await webhooks2?.stop();
    await tokens?.stop();
    await db?.drop();
    await rx?.close();
    serverPki?.cleanup();
    devices?.cleanup();
  });

  const mqttUrl = () => brokerUrl({ mqttPort: edge.port('MQTT'), wsPort: edge.port('WebSocket') }, 'tcp');
  const device = (name: string, password: string) => ({ username: `${name}@${orgId}`, password, clientId: name, protocolVersion: 5 as const });

  it('a device allowed by the webhook publishes inside its permissions and is refused outside them', async () => {
    const client = await connect(mqttUrl(), device('dev-1', 'let-me-in'));
    try {
      await expect(publishCode(client, 'devices/dev-1/temp', '1')).resolves.toBe(0);
      await expect(publishCode(client, 'devices/dev-2/temp', '1')).resolves.toBe(0x87);
    } finally {
      client.end(true);
    }
    expect(rx.calls.at(-1)).toMatchObject({ verified: true, body: { username: `dev-1@${orgId}`, password: 'let-me-in' } });
  });

  it('a denied device gets 0x86; a hanging webhook 0x88 within the CONNECT timeout', async () => {
    await expect(refusalCode(mqttUrl(), device('dev-2', 'nope'))).resolves.toBe(0x86);
    const started = Date.now();
    await expect(refusalCode(mqttUrl(), device('hang', 'let-me-in'))).resolves.toBe(0x88);
    expect(Date.now() - started).toBeLessThan(CONNECT_TIMEOUT_MS);
  });

  it('a chain change reaches the edge at once over the bus, not after its 30 s cache', async () => {
    // The edge has cached ['webhook'] from the CONNECTs above.
    (await connect(mqttUrl(), device('dev-3', 'let-me-in'))).end(true);
    expect((await admin.call('PUT', '/v1/authenticator-chain', { steps: ['token'] })).status).toBe(200);
    await waitFor(async () => (await refusalCode(mqttUrl(), device('dev-3', 'let-me-in'))) === 0x86, { timeoutMs: 5000, message: 'the new chain on the edge' });
    expect((await admin.call('PUT', '/v1/authenticator-chain', { steps: ['webhook'] })).status).toBe(200);
    await waitFor(async () => (await connect(mqttUrl(), device('dev-3', 'let-me-in'))).end(true), { timeoutMs: 5000, message: 'the webhook chain back' });
  });

  it('a CA uploaded to the auth-webhook service is trusted by the edge without a restart; a revoked certificate is disconnected', async () => {
    const mqtts = `mqtts://127.0.0.1:${/^ {2}MQTT\/TLS\s+\S*?:(\d+)/m.exec(edge.stdout)![1]}`;
    const ca = await admin.call('POST', '/v1/certificate-authorities', { name: 'split', pem: devices.pem });
    expect(ca.status).toBe(201);
    const cert = devices.issue('split-1', { cn: 'split-1' });
    const options = { protocolVersion: 5 as const, ca: serverPki.ca, cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile) };
    // The default chain ends with the certificate step; the webhook chain of this org does not have it.
    expect((await admin.call('PUT', '/v1/authenticator-chain', { steps: ['client_certificate', 'webhook'] })).status).toBe(200);
    const client = await waitFor(() => connect(mqtts, { ...options, clientId: 'split-1' }), { timeoutMs: 5000, message: 'the CA on the edge' });
    try {
      await expect(publishCode(client, 'devices/split-1/t', '1')).resolves.toBe(0);
      const closed = serverClosed(client);
      expect((await admin.call('POST', `/v1/certificate-authorities/${String(ca.body['id'])}/revocations`, { serial: cert.serial })).status).toBe(200);
      await expect(closed).resolves.toEqual({ reasonCode: 0x98 });
      await expect(refusalCode(mqtts, { ...options, clientId: 'split-1b' })).resolves.toBe(0x86);
    } finally {
      client.end(true);
    }
  });

  it("a webhook changed through another replica of the service is called at once by the edge's replica", async () => {
    const rx2 = await startWebhookReceiver();
    try {
      rx2.secret = rx.secret;
      // Warms the first replica's cache of the org's webhook target.
      (await connect(mqttUrl(), device('dev-8', 'let-me-in'))).end(true);
      const other = new TokenApi(`http://127.0.0.1:${webhooks2.port('HTTP API')}`, bootKey);
      expect((await other.call('PUT', '/v1/auth-webhook', { url: rx2.url, send_password: true })).status).toBe(200);
      await waitFor(async () => {
        (await connect(mqttUrl(), device(`dev-9-${rx2.calls.length}`, 'let-me-in'))).end(true);
        return rx2.calls.length > 0;
      }, { timeoutMs: 5000, message: 'the new webhook called' });
    } finally {
      expect((await admin.call('PUT', '/v1/auth-webhook', { url: rx.url, send_password: true })).status).toBe(200);
      await rx2.close();
    }
  });
});
