/**
 * @signet/client against a real all-in-one with tokens of a few seconds: a
 * Node client (MQTT 5 with AUTH, 3.1.1 with the in-band topic) and a browser
 * page in Chromium keep one connection across several refreshes, and a
 * revocation costs one getCredentials() call, never a reconnect loop.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { build } from 'esbuild';
import type { MqttClient } from 'mqtt';
import type { Browser } from 'playwright-core';

import { SignetClient, type CredentialsReason, type SignetClientOptions, type SignetCredentials } from '@signet/client';
import type { SignetProcess } from '@signet/runtime';

import { IssuedCredentials, TokenApi } from '../support/api';
import { launchChromium } from '../support/cli';
import { brokerUrl, connect, Endpoints } from '../support/mqtt';
import { Backend, embeddedBackend, reach, startSignet } from '../support/signet';

const TTL_SECONDS = 3;
/** Refresh policy for 3 s tokens: at 75–90% of the life, at least 0.5 s before expiry. */
const FAST = { minLeadMs: 500, minDelayMs: 500 };
const EXAMPLE = join(__dirname, '../../examples/browser-client');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 50 ms until it holds, or fails with `what` after `timeoutMs`. */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('@signet/client against the all-in-one', () => {
  let backend: Backend;
  let signet: SignetProcess;
  let api: TokenApi;
  let endpoints: Endpoints;
  const sdkClients: SignetClient[] = [];
  const plainClients: MqttClient[] = [];

  /** A backend as an app would write it: POST /v1/tokens with its key, the password and expiry for the device. */
  function backendFor(userId: string, ttlSeconds = TTL_SECONDS) {
    const issued: IssuedCredentials[] = [];
    const reasons: CredentialsReason[] = [];
    let refuse = false;
    return {
      issued,
      reasons,
      refuseFromNowOn: () => (refuse = true),
      getCredentials: async (reason: CredentialsReason): Promise<SignetCredentials> => {
        reasons.push(reason);
        if (refuse) throw new Error('the app signed this user out');
        const creds = await api.issue({ user_id: userId, ttl_seconds: ttlSeconds });
        issued.push(creds);
        return { ...creds.mqtt_credentials, expires_at: creds.expires_at };
      },
    };
  }

  function sdk(options: SignetClientOptions): SignetClient {
    const client = new SignetClient(options);
    sdkClients.push(client);
    return client;
  }

  /** A plain MQTT.js publisher for `userId`'s topics, on a long-lived token. */
  async function publisherFor(userId: string): Promise<MqttClient> {
    const creds = await api.issue({ user_id: userId, ttl_seconds: 600 });
    const client = await connect(brokerUrl(endpoints, 'tcp'), { ...creds.mqtt_credentials, protocolVersion: 5 });
    plainClients.push(client);
    return client;
  }

  beforeAll(async () => {
    backend = await embeddedBackend();
    signet = await startSignet(backend);
    const reached = reach(signet);
    endpoints = reached.endpoints;
    api = reached.anonymous.withKey(signet.service!.bootstrap!.apiKey);
  });

  afterEach(async () => {
    await Promise.all(sdkClients.splice(0).map((c) => c.end(true)));
    for (const c of plainClients.splice(0)) c.end(true);
  });

  afterAll(async () => {
    await signet?.close();
    await backend?.cleanup();
  });

  describe.each([
    [5, 'auth'],
    [5, 'topic'],
    [4, 'topic'],
  ] as const)('Node, MQTT version %i, refresh by %s', (protocolVersion, via) => {
    it('lives across 3 refreshes on one connection, and its subscription keeps receiving', async () => {
      const user = `sdk-node-${protocolVersion}-${via}`;
      const app = backendFor(user);
      const client = sdk({
        url: brokerUrl(endpoints, 'tcp'),
        mqtt: { protocolVersion, reconnectPeriod: 200 },
        refreshMethod: via,
        policy: FAST,
        getCredentials: app.getCredentials,
      });
      const publisher = await publisherFor(user);
      const received: string[] = [];
      const refreshed: { via: string; expiresAt: Date }[] = [];
      const errors: string[] = [];
      client.on('message', (_t, payload) => received.push(new TextDecoder().decode(payload)));
      client.on('error', (e) => errors.push(e.code));
      client.on('refreshed', (e) => {
        refreshed.push(e);
        // Published by someone else after each refresh: it must reach the session that took the new token.
        void publisher.publishAsync(`users/${user}/feed`, `after-${refreshed.length}`, { qos: 1 });
      });

      await client.start();
      await client.mqtt!.subscribeAsync(`users/${user}/feed`, { qos: 1 });

      await until('three refreshes and their messages', () => received.includes('after-3'), 30_000);
      expect(refreshed.slice(0, 3).map((r) => r.via)).toEqual([via, via, via]);
      expect(client.connectCount).toBe(1);
      expect(errors).toEqual([]);
      expect(received.slice(0, 3)).toEqual(['after-1', 'after-2', 'after-3']);
      // Every refresh fetched a new token, and the one in use now outlives the first by more than a TTL.
      expect(app.reasons.slice(0, 4)).toEqual(['connect', 'refresh', 'refresh', 'refresh']);
      const first = Date.parse(app.issued[0].expires_at);
      expect(refreshed[2].expiresAt.getTime() - first).toBeGreaterThan(TTL_SECONDS * 1000);
      // MQTT.js would reconnect with the fresh token.
      expect(client.mqtt!.options.password).toBe(app.issued[app.issued.length - 1].mqtt_credentials.password);
    });
  });

  it('MQTT 5: a revoke (DELETE /v1/tokens/{id}) is reported, costs one getCredentials() and one reconnect', async () => {
    const app = backendFor('sdk-revoke-5', 600);
    const client = sdk({
      url: brokerUrl(endpoints, 'tcp'),
      mqtt: { protocolVersion: 5, reconnectPeriod: 200 },
      getCredentials: app.getCredentials,
    });
    const revoked: unknown[] = [];
    const received: string[] = [];
    client.on('revoked', (e) => revoked.push(e));
    client.on('message', (_t, payload) => received.push(new TextDecoder().decode(payload)));
    await client.start();
    await client.mqtt!.subscribeAsync('users/sdk-revoke-5/feed', { qos: 1 });
    const publisher = await publisherFor('sdk-revoke-5');

    expect((await api.call('DELETE', `/v1/tokens/${app.issued[0].token_id}`)).status).toBe(204);
    await until('the reconnect with new credentials', () => client.connectCount === 2);
    expect(revoked).toEqual([{ source: 'disconnect', reasonCode: 0x98 }]);
    expect(app.reasons).toEqual(['connect', 'revoked']);
    // The revoke ended the session state; MQTT.js subscribed again on the new connection.
    await until('the subscription on the new session', async () => {
      await publisher.publishAsync('users/sdk-revoke-5/feed', 'after-revoke', { qos: 1 });
      return received.includes('after-revoke');
    });
    // And it stays that way: no loop.
    await sleep(1000);
    expect(app.reasons).toEqual(['connect', 'revoked']);
    expect(client.connectCount).toBe(2);
    expect(client.state).toBe('connected');
  });

  it('MQTT 5: a token that could not be refreshed expires (DISCONNECT 0xA0), one call for new credentials, reconnect', async () => {
    const app = backendFor('sdk-expire-5', 2);
    let refreshes = 0;
    const client = sdk({
      url: brokerUrl(endpoints, 'tcp'),
      mqtt: { protocolVersion: 5, reconnectPeriod: 200 },
      policy: FAST,
      getCredentials: (reason) => {
        if (reason === 'refresh') return Promise.reject(new Error(`backend down (${++refreshes})`));
        return app.getCredentials(reason);
      },
    });
    const expired: unknown[] = [];
    client.on('expired', (e) => expired.push(e));
    await client.start();

    await until('the reconnect after expiry', () => client.connectCount === 2, 15_000);
    expect(expired).toEqual([{ source: 'disconnect', reasonCode: 0xa0 }]);
    expect(app.reasons).toEqual(['connect', 'expired']);
    // Failed refreshes were retried with backoff inside the token's life, not in a tight loop.
    expect(refreshes).toBeGreaterThanOrEqual(1);
    expect(refreshes).toBeLessThanOrEqual(5);
  });

  it('MQTT 3.1.1: a revoke with the app refusing new credentials stops the client after one call', async () => {
    const app = backendFor('sdk-revoke-4', 600);
    const client = sdk({
      url: brokerUrl(endpoints, 'tcp'),
      mqtt: { protocolVersion: 4, reconnectPeriod: 200 },
      getCredentials: app.getCredentials,
    });
    const events: string[] = [];
    const errors: string[] = [];
    for (const e of ['revoked', 'expired', 'stopped'] as const) client.on(e, () => events.push(e));
    client.on('error', (e) => errors.push(`${e.code}: ${e.message}`));
    let connects = 0;
    await client.start();
    client.mqtt!.on('packetsend', (p) => p.cmd === 'connect' && connects++);
    app.refuseFromNowOn();

    expect((await api.call('DELETE', `/v1/tokens/${app.issued[0].token_id}`)).status).toBe(204);
    await until('the client to stop', () => client.state === 'stopped');
    // 3.1.1 has no DISCONNECT reason: the server closes, the one reconnect is refused (CONNACK 5), that is the revocation.
    expect(events).toEqual(['revoked', 'stopped']);
    expect(app.reasons).toEqual(['connect', 'revoked']);
    await sleep(1000);
    expect(app.reasons).toEqual(['connect', 'revoked']);
    expect(connects).toBe(1);
    expect(errors.map((e) => e.split(':')[0])).toEqual(['credentials_failed', 'credentials_failed']);
    expect(errors.join('\n')).not.toMatch(/tkn_/);
  });

  describe('browser (Chromium)', () => {
    let browser: Browser;
    let server: Server;
    let pageUrl: string;
    let credentialCalls = 0;

    beforeAll(async () => {
      const bundled = await build({
        entryPoints: [join(EXAMPLE, 'main.ts')],
        bundle: true,
        write: false,
        platform: 'browser',
        format: 'esm',
        target: 'es2022',
        tsconfig: join(EXAMPLE, 'tsconfig.json'),
        logLevel: 'silent',
      });
      const bundle = bundled.outputFiles[0].contents;
      const html = await readFile(join(EXAMPLE, 'index.html'));
      // The page's origin is the app's backend: static files and POST /credentials (the API key stays here).
      server = createServer((req, res) => {
        if (req.method === 'POST' && req.url === '/credentials') {
          credentialCalls++;
          api
            .issue({ user_id: 'sdk-browser', ttl_seconds: TTL_SECONDS })
            .then((creds) => {
              res.writeHead(200, { 'content-type': 'application/json' });
              res.end(JSON.stringify({ ...creds.mqtt_credentials, expires_at: creds.expires_at }));
            })
            .catch(() => res.writeHead(502).end());
        } else if (req.url === '/bundle.js') {
          res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
        } else if (req.url?.startsWith('/?') || req.url === '/') {
          res.writeHead(200, { 'content-type': 'text/html' }).end(html);
        } else {
          res.writeHead(404).end();
        }
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      const broker = encodeURIComponent(brokerUrl(endpoints, 'ws'));
      pageUrl = `http://127.0.0.1:${port}/?broker=${broker}&v=5&lead=500`;
      browser = await launchChromium();
    });

    afterAll(async () => {
      await browser?.close();
      await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    });

    it('connects over WebSocket with credentials from the backend and survives 2 refreshes without reconnecting', async () => {
      const page = await browser.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (err) => pageErrors.push(err.message));
      await page.goto(pageUrl);
      const state = () =>
        page.evaluate(
          () =>
            (globalThis as unknown as { signet: { state: string; connects: number; refreshes: number; received: string[]; errors: string[] } })
              .signet,
        );
      await until('the page to connect', async () => (await state()).state === 'connected');
      await until('two refreshes and their echoes', async () => (await state()).received.includes('after-refresh-2'), 30_000);
      const s = await state();
      expect(s.refreshes).toBeGreaterThanOrEqual(2);
      expect(s.connects).toBe(1);
      expect(s.errors).toEqual([]);
      expect(s.state).toBe('connected');
      expect(credentialCalls).toBeGreaterThanOrEqual(3);
      expect(pageErrors).toEqual([]);
      await page.close();
    });
  });
});
