/**
 * The dashboard's live-sessions and audit pages in headless Chromium, against the agreed contracts of
 * GET/DELETE /v1/sessions (helper `sessions`) and GET /v1/audit, /v1/audit/export (helper `audit`):
 * a real all-in-one, real MQTT clients, the pages driven as a person would.
 */
import type { BrowserContext, Page } from 'playwright-core';

import { waitFor } from '@signet/testing';

import { cookieHeader, DashboardHarness, PASSWORD } from '../support/dashboard';
import { connect, refusalCode } from '../support/mqtt';

const OWNER = 'olga@example.com';
const VIEWER = 'walt@example.com';
const AUDIT_VIEWER = 'ada@example.com';

describe('dashboard: live sessions and the audit log', () => {
  let h: DashboardHarness;
  let server: string;
  let mqttPort: number;
  let owner: BrowserContext;
  let page: Page;

  const api = (method: string, path: string, body?: unknown) => h.api(method, path, body);

  /**
   * Clicks `button` (Refresh, Filter) on `on` until `shown()` holds, each time reading the list that
   * click produced: a check made during "Loading…" would click again and might never see an answer.
   */
  const clickUntil = (on: Page, button: string, shown: () => Promise<boolean>, message: string) =>
    waitFor(
      async () => {
        await on.click(`text=${button}`);
        await on.waitForSelector('#view [aria-busy="false"]');
        return shown();
      },
      { timeoutMs: 10000, message },
    );

  /** Submits the audit filters until the list shows `expected` (events are written a moment after they happen). */
  const filterUntilShown = (expected: RegExp, message: string) =>
    // page.$, not page.textContent: "No events match." has no tbody, and textContent would wait 30 s for one.
    clickUntil(page, 'Filter', async () => expected.test((await (await page.$('#view tbody'))?.textContent()) ?? ''), message);

  beforeAll(async () => {
    h = await DashboardHarness.start('dashboard_live', OWNER, {}, { acceptDownloads: true });
    ({ server, mqttPort, owner, page } = h);
  });

  afterAll(() => DashboardHarness.stop(h));

  it('lists a live MQTT session with its credential, and kicking it closes the connection', async () => {
    const issued = await api('POST', '/v1/tokens', { user_id: 'pump-3', permissions: { publish: ['pumps/{user_id}/#'], subscribe: ['pumps/{user_id}/#'] } });
    expect(issued.status).toBe(201);
    const { token_id: tokenId, mqtt_credentials: creds } = issued.body as { token_id: string; mqtt_credentials: { username: string; password: string } };
    const client = await connect(`mqtt://127.0.0.1:${mqttPort}`, { ...creds, clientId: 'pump-3-main', protocolVersion: 5 });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    try {
      await page.goto(`${server}/dashboard#/sessions`);
      const row = `tr[data-client-id="pump-3-main"]`;
      await clickUntil(page, 'Refresh', async () => (await page.$(row)) !== null, 'the live session listed on the sessions page');
      const text = (await page.textContent(row))!;
      expect(text).toContain('token');
      expect(text).toContain(tokenId);
      expect(text).toContain('tcp');
      expect(text).toContain('5.0');

      // The user filter narrows the list to that user.
      await page.fill('#sessions-user', 'somebody-else');
      await page.click('text=Refresh');
      await page.waitForSelector(row, { state: 'detached' });
      await page.fill('#sessions-user', 'pump-3');
      await page.click('text=Refresh');
      await page.click(`${row} >> text=Kick`);
      await closed;
      await page.waitForSelector(row, { state: 'detached' });
      const listed = await api('GET', '/v1/sessions?client_id=pump-3-main');
      expect(listed).toMatchObject({ status: 200, body: { sessions: [] } });
      // Kicking a session that is gone is the contract's 404, said on the page rather than thrown.
      const csrf = await page.evaluate(async () => ((await (await fetch('/dashboard/session')).json()) as { csrf_token: string }).csrf_token);
      const again = await fetch(`${server}/dashboard/api/v1/sessions/pump-3-main`, {
        method: 'DELETE',
        headers: { cookie: await cookieHeader(owner, server), origin: server, 'x-csrf-token': csrf },
      });
      expect(again.status).toBe(404);
      expect(((await again.json()) as { code: string }).code).toBe('session_not_found');
    } finally {
      client.end(true);
    }
  });

  it('shows administrative actions and failed MQTT authentications, filtered, and exports them', async () => {
    // An administrative action made from the dashboard, and an authentication failure at the edge.
    await page.goto(`${server}/dashboard#/keys`);
    await page.fill('#key-name', 'audited-key');
    await page.click('#key-create');
    await page.waitForSelector('#secret-title:has-text("audited-key")');
    const keyId = ((await api('GET', '/v1/keys')).body.keys as Array<{ id: string; name: string }>).find((k) => k.name === 'audited-key')!.id;
    // A revoked token of the org: the refusal is filed under the org (an unknown org could not be).
    const revoked = (await api('POST', '/v1/tokens', { user_id: 'ghost-1' })).body as { token_id: string; mqtt_credentials: { username: string; password: string } };
    expect((await api('DELETE', `/v1/tokens/${revoked.token_id}`)).status).toBe(204);
    expect(await refusalCode(`mqtt://127.0.0.1:${mqttPort}`, { ...revoked.mqtt_credentials, clientId: 'ghost-1' })).toBeDefined();

    await page.goto(`${server}/dashboard#/audit`);
    await page.selectOption('#audit-type', 'admin');
    // The key's creation, by its id (the target) or its name (the details).
    await filterUntilShown(new RegExp(`${keyId}|audited-key`), "the key's creation in the audit log");
    const adminTypes = await page.$$eval('#view tbody tr td:nth-child(2)', (cells) => cells.map((c) => c.textContent));
    expect(new Set(adminTypes)).toEqual(new Set(['admin']));

    await page.selectOption('#audit-type', 'auth');
    await page.selectOption('#audit-outcome', 'failure');
    await filterUntilShown(/failure/, 'a failed authentication in the audit log');
    const outcomes = await page.$$eval('#view tbody tr td:nth-child(6)', (cells) => cells.map((c) => c.textContent));
    expect(new Set(outcomes)).toEqual(new Set(['failure']));

    // The export link downloads through the dashboard's session, with the same filters.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=CSV')]);
    const csv = await new Promise<string>((resolve, reject) => {
      void download.createReadStream().then((stream) => {
        let text = '';
        stream.on('data', (d: Buffer) => (text += d.toString()));
        stream.on('end', () => resolve(text));
        stream.on('error', reject);
      }, reject);
    });
    const lines = csv.trim().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.slice(1).every((l) => l.includes('failure'))).toBe(true);
  });

  it('a viewer sees the sessions page without Kick', async () => {
    const created = await api('POST', '/v1/accounts', { username: VIEWER, password: PASSWORD, role: 'viewer' });
    expect(created.status).toBe(201);
    const { context: viewer, page: viewerPage } = await h.signedIn(VIEWER);
    const issued = await api('POST', '/v1/tokens', { user_id: 'pump-4' });
    const { mqtt_credentials: creds } = issued.body as { mqtt_credentials: { username: string; password: string } };
    const client = await connect(`mqtt://127.0.0.1:${mqttPort}`, { ...creds, clientId: 'pump-4-main' });
    try {
      await viewerPage.goto(`${server}/dashboard#/sessions`);
      await clickUntil(viewerPage, 'Refresh', async () => (await viewerPage.$('tr[data-client-id="pump-4-main"]')) !== null, 'the viewer seeing the live session');
      expect(await viewerPage.$('tr[data-client-id="pump-4-main"] >> text=Kick')).toBeNull();
    } finally {
      client.end(true);
      await viewer.close();
    }
  });

  it('a viewer is not shown the audit log', async () => {
    const created = await api('POST', '/v1/accounts', { username: AUDIT_VIEWER, password: PASSWORD, role: 'viewer' });
    expect(created.status).toBe(201);
    const { context: viewer, page: viewerPage } = await h.signedIn(AUDIT_VIEWER);
    try {
      await viewerPage.goto(`${server}/dashboard#/audit`);
      await viewerPage.waitForSelector('text=Your role cannot see the audit log');
      expect(await viewerPage.$('#view tbody tr')).toBeNull();
    } finally {
      await viewer.close();
    }
  });
});
