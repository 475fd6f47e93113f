/**
 * The screenshots of docs/dashboard.md: a fresh all-in-one on the embedded defaults, a little real
 * traffic (a key used over MQTT, tokens with live sessions, a viewer), then headless Chromium
 * (playwright-core, Debian's chromium) on each page. Not part of the test run.
 *
 *   npm run build && node dist/bench/dashboard-screenshots.js [output folder, default docs/images]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import mqtt from 'mqtt';
import { chromium, type Page } from 'playwright-core';

import { ROOT, SpawnedApp } from './lib/spawned-app';

const PASSWORD = 'correct horse battery staple';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

async function main(): Promise<void> {
  const out = resolve(process.argv[2] ?? join(ROOT, 'docs', 'images'));
  const dataDir = await mkdtemp(join(tmpdir(), 'signet-screenshots-'));
  const port = await freePort();
  const server = `http://127.0.0.1:${port}`;
  const app = await SpawnedApp.start('signet', {
    SIGNET_DATA_DIR: dataDir,
    SIGNET_HOST: '127.0.0.1',
    SIGNET_HTTP_PORT: String(port),
    SIGNET_PUBLIC_URL: server,
    SIGNET_MQTT_PORT: '0',
    SIGNET_WS_PORT: '0',
    SIGNET_GRPC_PORT: '0',
    SIGNET_LOG_LEVEL: 'silent',
    SIGNET_USAGE_FLUSH_MS: '200',
  }).ready(60000);
  const clients: mqtt.MqttClient[] = [];
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const mqttUrl = `mqtt://127.0.0.1:${app.port('MQTT')}`;
    const bootstrapKey = /^(sk_\S+)$/m.exec(app.stdout)![1];
    const signupCode = /Sign-up code for the first account[^\n]*\n(su_\S+)/.exec(app.stdout)![1];
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(server + path, { method, headers: { authorization: `Bearer ${bootstrapKey}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      return (await res.json()) as Record<string, unknown>;
    };
    const online = (options: mqtt.IClientOptions) =>
      new Promise<mqtt.MqttClient>((done, fail) => {
        const client = mqtt.connect(mqttUrl, { reconnectPeriod: 0, ...options });
        client.once('connect', () => done(client));
        client.once('error', fail);
      });

    const context = await browser.newContext({ viewport: { width: 1280, height: 760 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    page.on('dialog', (d) => void d.accept());
    const shot = async (name: string, p: Page = page) => {
      await p.waitForTimeout(300);
      await p.screenshot({ path: join(out, `dashboard-${name}.png`), fullPage: true });
      console.log(`wrote ${join(out, `dashboard-${name}.png`)}`);
    };

    await page.goto(`${server}/dashboard`);
    await shot('signed-out');
    await page.click('#sign-in');
    await page.fill('#username', 'dora@example.com');
    await page.fill('#password', PASSWORD);
    await page.click('summary');
    await page.fill('#signup_code', signupCode);
    await page.click('button[type=submit]');
    await page.waitForSelector('#sign-out');

    await page.fill('#key-name', 'backend-prod');
    await page.click('#key-create');
    const secret = await (await page.waitForSelector('#new-secret')).inputValue();
    await shot('keys');

    const keys = (await api('GET', '/v1/keys')).keys as Array<{ name: string; mqtt_username: string }>;
    const username = keys.find((k) => k.name === 'backend-prod')!.mqtt_username;
    for (let i = 0; i < 4; i++) {
      const client = await online({ username, password: secret, clientId: `backend-prod-${i}` });
      for (let m = 0; m <= i; m++) await client.publishAsync('telemetry/fleet', `reading ${m}`, { qos: 1 });
      await client.endAsync();
    }
    await new Promise((r) => setTimeout(r, 600));
    await page.reload();
    await page.click('tr:has-text("backend-prod") >> text=Usage');
    await page.waitForSelector('#usage svg');
    await shot('usage');

    for (const user of ['sensor-1', 'sensor-2', 'thermostat-7']) {
      const issued = (await api('POST', '/v1/tokens', { user_id: user, permissions: { publish: ['devices/{user_id}/#'], subscribe: ['devices/{user_id}/#', 'broadcast/#'] } })) as {
        mqtt_credentials: { username: string; password: string };
      };
      clients.push(await online({ ...issued.mqtt_credentials, clientId: `${user}-main`, protocolVersion: 5 }));
    }
    await page.goto(`${server}/dashboard#/tokens`);
    await page.waitForSelector('tr[data-token-id]');
    await shot('tokens');
    await page.goto(`${server}/dashboard#/sessions`);
    await page.waitForSelector('#view table, #view p');
    await shot('sessions');

    await page.goto(`${server}/dashboard#/acl`);
    await page.fill('#acl-subject', 'sensor-1');
    await page.fill('#acl-topic', 'devices/sensor-1/temperature');
    await page.click('#acl-submit');
    await page.waitForSelector('#acl-answer p');
    await shot('acl');

    await api('POST', '/v1/accounts', { username: 'vic@example.com', password: PASSWORD, role: 'viewer' });
    await page.goto(`${server}/dashboard#/accounts`);
    await page.waitForSelector('#view table');
    await shot('accounts');
    await page.goto(`${server}/dashboard#/audit`);
    // Events are written a moment after they happen; a 404 (no audit log served) never fills the table.
    const loaded = () => page.waitForSelector('#view table, #view p:has-text("No events match"), #view p:has-text("not served")');
    await loaded();
    for (let i = 0; i < 20 && !(await page.$('#view tbody tr')) && !(await page.$('#view p:has-text("not served")')); i++) {
      await page.waitForTimeout(250);
      await page.click('text=Filter');
      await loaded();
    }
    if (await page.$('#view tbody tr')) await shot('audit');

    const viewer = await browser.newContext({ viewport: { width: 1280, height: 760 } });
    const viewerPage = await viewer.newPage();
    await viewerPage.goto(`${server}/dashboard/login`);
    await viewerPage.fill('#username', 'vic@example.com');
    await viewerPage.fill('#password', PASSWORD);
    await viewerPage.click('button[type=submit]');
    await viewerPage.waitForSelector('tr[data-key-id]');
    await shot('viewer-keys', viewerPage);
  } finally {
    for (const c of clients) c.end(true);
    await browser.close();
    await app.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
