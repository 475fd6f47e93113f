/**
 * The dashboard end to end: a real all-in-one (built, PostgreSQL + Redis) driven by real headless
 * Chromium (playwright-core): sign in through /oidc (the first account from the sign-up code), create a
 * key (shown once, copied), see its usage move after real MQTT traffic, revoke a token of a live MQTT
 * session and see the session drop, CSRF refused, a viewer read-only, sign-out revoking the grant.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { Client } from 'pg';

import { waitFor } from '@signet/testing';

import { cookieHeader, DashboardHarness, PASSWORD } from '../support/dashboard';
import { connect } from '../support/mqtt';

const OWNER = 'dora@example.com';

describe('dashboard: headless Chromium against the all-in-one', () => {
  let h: DashboardHarness;
  let server: string;
  let mqttPort: number;
  let owner: BrowserContext;
  let page: Page;

  const api = (method: string, path: string, body?: unknown, bearer?: string) => h.api(method, path, body, bearer);

  /** A call as the browser's dashboard session would make it, from outside the browser. */
  const asBrowser = async (context: BrowserContext, method: string, path: string, headers: Record<string, string>, body?: unknown) => {
    const cookie = await cookieHeader(context, server);
    const res = await fetch(server + path, {
      method,
      headers: { cookie, ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };

  const csrfOf = (p: Page) => p.evaluate(async () => ((await (await fetch('/dashboard/session')).json()) as { csrf_token: string }).csrf_token);

  beforeAll(async () => {
    h = await DashboardHarness.start('dashboard', OWNER, { SIGNET_USAGE_FLUSH_MS: '200' });
    ({ server, mqttPort, owner, page } = h);
    await owner.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server });
  });

  afterAll(() => DashboardHarness.stop(h));

  it('signs in through /oidc: an httpOnly SameSite cookie, no token in the page', async () => {
    expect(await page.textContent('#who-name')).toBe(OWNER);
    const cookies = await owner.cookies(`${server}/dashboard/`);
    const session = cookies.find((c) => c.name === 'signet_dashboard');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/dashboard', secure: false });
    expect(await page.evaluate('document.cookie')).toBe('');
    const seen = await page.evaluate(async () => (await fetch('/dashboard/session')).text());
    expect(JSON.parse(seen)).toMatchObject({ account: { username: OWNER, role: 'owner' }, csrf_token: expect.any(String) });
    expect(seen).not.toMatch(/access_token|refresh_token/);
  });

  it('refuses a callback this browser did not start, and says so on the page', async () => {
    const other = await h.browser.newPage();
    try {
      await other.goto(`${server}/dashboard/callback?code=forged&state=forged`);
      expect(other.url()).toMatch(/\/dashboard\?error=/);
      expect(await other.textContent('[role=alert]')).toContain('not started by this browser');
      // No session came of it: the page offers to sign in.
      await other.waitForSelector('#sign-in');
    } finally {
      await other.close();
    }
  });

  it('works by keyboard: a skip link, the nav in order, focused headings, labelled fields, Enter submits', async () => {
    await page.goto(`${server}/dashboard#/keys`);
    await page.waitForSelector('#key-name');
    const focused = () => page.evaluate("(() => { const e = document.activeElement; return e ? `${e.tagName} ${e.textContent.trim()}` : '' })()");
    // After a navigation the page heading has the focus; the first Tab from the top is the skip link.
    await waitFor(async () => (await focused()) === 'H1 API keys', { timeoutMs: 5000, message: 'the heading focused' });
    // The skip link is the first stop of the tab order; from it, Tab walks the nav in order.
    const first = await page.evaluate("document.querySelector('a[href], button, input, select, textarea, [tabindex]:not([tabindex=\"-1\"])').textContent");
    expect(first).toBe('Skip to content');
    await page.focus('a.skip');
    const nav: string[] = [];
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press('Tab');
      nav.push(String(await focused()));
    }
    expect(nav).toEqual(['API keys', 'Tokens', 'Sessions', 'Identity providers', 'Settings', 'ACL checker', 'Audit log', 'Accounts'].map((t) => `A ${t}`));
    // Enter on a nav link opens the page with its heading focused.
    await page.keyboard.down('Shift');
    for (let i = 0; i < 6; i++) await page.keyboard.press('Tab');
    await page.keyboard.up('Shift');
    expect(await focused()).toBe('A Tokens');
    await page.keyboard.press('Enter');
    await waitFor(async () => (await focused()) === 'H1 Tokens and users', { timeoutMs: 5000, message: 'the tokens heading focused' });

    // Every field of every page has a label.
    for (const name of ['keys', 'tokens', 'sessions', 'idp', 'settings', 'acl', 'audit', 'accounts']) {
      await page.goto(`${server}/dashboard#/${name}`);
      await page.waitForSelector('#view h1');
      const unlabelled = await page.$$eval('#view input, #view select, #view textarea', (fields) =>
        fields.filter((f) => !f.closest('label') && !f.getAttribute('aria-label')).map((f) => f.id),
      );
      expect([name, unlabelled]).toEqual([name, []]);
    }

    // A key made from the keyboard alone: type the name, Enter; the Copy button takes the focus.
    await page.goto(`${server}/dashboard#/keys`);
    // The page is ready once its heading has the focus (the list loads first).
    await waitFor(async () => (await focused()) === 'H1 API keys', { timeoutMs: 5000, message: 'the keys page ready' });
    await page.focus('#key-name');
    await page.keyboard.type('keyboard-key');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#secret-title:has-text("keyboard-key")');
    await waitFor(async () => (await focused()) === 'BUTTON Copy', { timeoutMs: 5000, message: 'the Copy button focused' });
  });

  it('creates a key (shown once, copied) and its usage moves after MQTT traffic with it', async () => {
    await page.goto(`${server}/dashboard#/keys`);
    await page.fill('#key-name', 'dash-service');
    await page.click('#key-create');
    await page.waitForSelector('#secret-title:has-text("dash-service")');
    const secret = await page.inputValue('#new-secret');
    expect(secret).toMatch(/^sk_/);
    await page.click('#copy-secret');
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(secret);

    // Reloaded, the list shows the key masked, never the secret.
    await page.reload();
    const row = await page.waitForSelector('tr:has-text("dash-service")');
    expect(await row.textContent()).not.toContain(secret);

    const listed = (await api('GET', '/v1/keys')).body.keys as Array<{ name: string; mqtt_username: string }>;
    const { mqtt_username: username } = listed.find((k) => k.name === 'dash-service')!;
    for (let i = 0; i < 2; i++) {
      const client = await connect(`mqtt://127.0.0.1:${mqttPort}`, { username, password: secret, clientId: `dash-service-${i}` });
      await client.publishAsync('telemetry/dash', 'hello', { qos: 1 });
      await client.endAsync();
    }

    await page.click('tr:has-text("dash-service") >> text=Usage');
    await waitFor(
      async () => {
        await page.click('#usage-refresh');
        const connects = Number(await page.textContent('#usage-total-mqtt_connects'));
        const published = Number(await page.textContent('#usage-total-messages_published'));
        return connects >= 2 && published >= 2;
      },
      { timeoutMs: 15000, message: 'the usage chart counting the MQTT connects and messages' },
    );
    expect(await page.$$('#usage svg rect')).not.toHaveLength(0);
    await page.selectOption('#usage-interval', 'day');
    await page.waitForSelector('#usage svg[aria-label$="per day"]');
  });

  it('rotates a key with grace (the new secret shown once, the old one still working) and revokes it', async () => {
    await page.goto(`${server}/dashboard#/keys`);
    await page.fill('#key-name', 'rotating');
    await page.click('#key-create');
    await page.waitForSelector('#secret-title:has-text("rotating")');
    const first = await page.inputValue('#new-secret');
    // The prompt for the grace period is answered "60" by the dialog handler.
    await page.click('tr:has-text("rotating") >> text=Rotate');
    await waitFor(async () => (await page.inputValue('#new-secret')) !== first, { timeoutMs: 10000, message: 'the rotated key shown' });
    const second = await page.inputValue('#new-secret');
    expect(second).toMatch(/^sk_/);
    expect(second).not.toBe(first);
    expect((await api('GET', '/v1/keys', undefined, first)).status).toBe(200);
    expect((await api('GET', '/v1/keys', undefined, second)).status).toBe(200);

    const active = page.locator('tr:has-text("rotating")', { hasText: 'active' }).filter({ has: page.locator('text=Revoke') });
    await active.first().locator('text=Revoke').click();
    await waitFor(async () => (await api('GET', '/v1/keys', undefined, second)).status === 401, { timeoutMs: 10000, message: 'the revoked key refused' });
  });

  it('revoking the token of a live MQTT session on the tokens page drops the session', async () => {
    const issued = await api('POST', '/v1/tokens', { user_id: 'sensor-9', permissions: { publish: ['sensors/{user_id}/#'], subscribe: ['sensors/{user_id}/#'] } });
    expect(issued.status).toBe(201);
    const { token_id: tokenId, mqtt_credentials: creds } = issued.body as { token_id: string; mqtt_credentials: { username: string; password: string } };
    const client = await connect(`mqtt://127.0.0.1:${mqttPort}`, { ...creds, clientId: 'sensor-9-a' });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    try {
      await page.goto(`${server}/dashboard#/tokens`);
      await page.fill('#tokens-user', 'sensor-9');
      await page.click('text=Filter');
      await page.click(`tr[data-token-id="${tokenId}"] >> text=Revoke`);
      await closed;
      await page.waitForSelector(`tr[data-token-id="${tokenId}"] >> text=Revoke`, { state: 'detached' });
      expect((await api('GET', `/v1/tokens?user_id=sensor-9&status=revoked`)).body.tokens).toEqual([expect.objectContaining({ token_id: tokenId })]);
    } finally {
      client.end(true);
    }
  });

  it('"Revoke user" revokes every live token of that user', async () => {
    for (let i = 0; i < 2; i++) expect((await api('POST', '/v1/tokens', { user_id: 'sensor-10' })).status).toBe(201);
    await page.goto(`${server}/dashboard#/tokens`);
    await page.fill('#tokens-user', 'sensor-10');
    await page.click('text=Filter');
    await page.waitForSelector('tr[data-token-id]');
    expect(await page.$$('tr[data-token-id]')).toHaveLength(2);
    await page.click('tr[data-token-id] >> nth=0 >> text=Revoke user');
    await page.waitForSelector('text=2 token(s) of sensor-10 revoked.');
    expect((await api('GET', '/v1/tokens?user_id=sensor-10&status=active')).body.tokens).toEqual([]);
  });

  it('adds, disables and deletes an identity provider, and changes the will policy', async () => {
    await page.goto(`${server}/dashboard#/idp`);
    const provider = { kind: 'jwt', name: 'in-house', issuer: 'https://auth.example.test/', audience: 'signet', algorithms: ['HS256'], shared_secret: 'a'.repeat(40) };
    await page.fill('#idp-body', JSON.stringify(provider));
    await page.click('text=Add provider');
    const row = 'tr:has-text("in-house")';
    await page.waitForSelector(row);
    expect(await page.textContent(row)).toContain('jwt');
    expect(await page.textContent(row)).not.toContain('a'.repeat(40));
    await page.click(`${row} >> text=Disable`);
    await page.waitForSelector(`${row} >> text=Enable`);
    expect(((await api('GET', '/v1/idp-providers')).body.providers as Array<{ name: string; enabled: boolean }>).find((p) => p.name === 'in-house')).toMatchObject({ enabled: false });
    await page.click(`${row} >> text=Delete`);
    await page.waitForSelector(row, { state: 'detached' });

    await page.goto(`${server}/dashboard#/settings`);
    const before = (await api('GET', '/v1/org/settings')).body.will_on_revoke as string;
    const next = before === 'publish' ? 'suppress' : 'publish';
    await page.selectOption('#will-policy', next);
    await page.click('#settings-save');
    await page.waitForSelector('text=Settings saved.');
    expect((await api('GET', '/v1/org/settings')).body).toEqual({ will_on_revoke: next });
  });

  it('the ACL checker says whether a topic is allowed for a user or a token, and by which rule', async () => {
    const issued = await api('POST', '/v1/tokens', { user_id: 'meter-4', permissions: { publish: ['meters/{user_id}/#'], subscribe: ['meters/{user_id}/cmd'] } });
    const { token_id: tokenId, mqtt_credentials: { password } } = issued.body as { token_id: string; mqtt_credentials: { password: string } };
    await page.goto(`${server}/dashboard#/acl`);
    const check = async (kind: 'user_id' | 'token', subject: string, action: 'publish' | 'subscribe', topic: string) => {
      await page.selectOption('#acl-kind', kind);
      await page.fill('#acl-subject', subject);
      await page.selectOption('#acl-action', action);
      await page.fill('#acl-topic', topic);
      await page.evaluate("document.getElementById('acl-answer').replaceChildren()");
      await page.click('#acl-submit');
      return (await page.waitForSelector('#acl-answer p')).textContent();
    };
    expect(await check('user_id', 'meter-4', 'publish', 'meters/meter-4/power')).toBe(`Allowed by the rule meters/{user_id}/# of the token ${tokenId}`);
    expect(await check('user_id', 'meter-4', 'publish', 'meters/meter-5/power')).toBe('Denied (no rule matches)');
    expect(await check('token', password, 'subscribe', 'meters/meter-4/cmd')).toBe(`Allowed by the rule meters/{user_id}/cmd of the token ${tokenId}`);
    expect(await check('token', password, 'subscribe', 'meters/meter-4/#')).toBe('Denied (no rule matches)');
    // The endpoint itself, for scripts and the CLI: a bad topic is a problem, not a verdict.
    expect(await api('POST', '/v1/acl/check', { user_id: 'meter-4', action: 'publish', topic: 'meters/+/x' })).toMatchObject({ status: 400, body: { code: 'invalid_topic' } });
    expect(await api('POST', '/v1/acl/check', { action: 'publish', topic: 'a' })).toMatchObject({ status: 400, body: { code: 'invalid_acl_subject' } });
    expect(await api('POST', '/v1/acl/check', { user_id: 'nobody', action: 'publish', topic: 'a' })).toMatchObject({
      status: 200,
      body: { allowed: false, rule: null, token_id: null, reason: 'no_live_token' },
    });
  });

  it('refuses a write without the CSRF token, from another origin, or with no origin at all', async () => {
    const newKey = { name: 'csrf-probe', type: 'secret' };
    // From the page itself, but without the header: the cookie alone is not enough.
    const bare = await page.evaluate(async (body) => {
      const res = await fetch('/dashboard/api/v1/keys', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as { code: string } };
    }, newKey);
    expect(bare).toMatchObject({ status: 403, body: { code: 'csrf_rejected' } });
    const csrf = await csrfOf(page);
    expect(await asBrowser(owner, 'POST', '/dashboard/api/v1/keys', { 'x-csrf-token': csrf, origin: 'http://evil.example' }, newKey)).toMatchObject({ status: 403, body: { code: 'csrf_rejected' } });
    expect(await asBrowser(owner, 'POST', '/dashboard/api/v1/keys', { 'x-csrf-token': csrf }, newKey)).toMatchObject({ status: 403, body: { code: 'csrf_rejected' } });
    expect(await asBrowser(owner, 'POST', '/dashboard/api/v1/keys', { 'x-csrf-token': 'x'.repeat(43), origin: server }, newKey)).toMatchObject({ status: 403, body: { code: 'csrf_rejected' } });
    expect(await asBrowser(owner, 'POST', '/dashboard/logout', { origin: server })).toMatchObject({ status: 403, body: { code: 'csrf_rejected' } });
    // The same call with both passes: the checks are what refused the others.
    expect(await asBrowser(owner, 'POST', '/dashboard/api/v1/keys', { 'x-csrf-token': csrf, origin: server }, newKey)).toMatchObject({ status: 201 });
    // Only /v1 is forwarded with the session's bearer.
    expect(await asBrowser(owner, 'GET', '/dashboard/api/oidc/me', {})).toMatchObject({ status: 404, body: { code: 'dashboard_route_not_found' } });
    expect(await asBrowser(owner, 'GET', '/dashboard/api/v1/../oidc/me', {})).toMatchObject({ status: 404 });
    expect(await asBrowser(owner, 'GET', '/dashboard/api/v1/%2e%2e/oidc/me', {})).toMatchObject({ status: 404, body: { code: 'dashboard_route_not_found' } });
  });

  it('a viewer sees read-only pages and cannot create', async () => {
    await page.goto(`${server}/dashboard#/accounts`);
    await page.fill('#account-username', 'vic@example.com');
    await page.fill('#account-password', PASSWORD);
    await page.selectOption('#account-role', 'viewer');
    await page.click('#account-create');
    await page.waitForSelector('tr:has-text("vic@example.com")');

    const { context: viewer, page: viewerPage } = await h.signedIn('vic@example.com');
    try {
      await viewerPage.goto(`${server}/dashboard#/keys`);
      await viewerPage.waitForSelector('tr:has-text("dash-service")');
      expect(await viewerPage.$('#key-create')).toBeNull();
      expect(await viewerPage.$('tr:has-text("dash-service") >> text=Revoke')).toBeNull();
      const csrf = await csrfOf(viewerPage);
      const forced = await viewerPage.evaluate(async (token) => {
        const res = await fetch('/dashboard/api/v1/keys', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': token }, body: JSON.stringify({ name: 'nope', type: 'secret' }) });
        return { status: res.status, body: (await res.json()) as { code: string } };
      }, csrf);
      expect(forced).toMatchObject({ status: 403, body: { code: 'insufficient_scope' } });
    } finally {
      await viewer.close();
    }
  });

  it('sign-out revokes the grant server-side: the cookie and the access token are refused afterwards', async () => {
    const db = new Client({ connectionString: String(h.backend.env['DATABASE_URL']) });
    await db.connect();
    let accessToken: string;
    try {
      const rows = await db.query<{ payload: { accessToken: string } }>(`SELECT payload FROM oidc_payloads WHERE kind = 'DashboardSession'`);
      // The owner's session (the viewer's context was closed, its session is still stored).
      const tokens = rows.rows.map((r) => r.payload.accessToken);
      const mine = await Promise.all(tokens.map(async (t) => ((await api('GET', '/v1/accounts/me', undefined, t)).body.username === OWNER ? t : null)));
      accessToken = mine.find((t) => t !== null)!;
      expect(accessToken).toBeDefined();
    } finally {
      await db.end();
    }
    const cookiesBefore = await cookieHeader(owner, server);

    await page.goto(`${server}/dashboard#/keys`);
    await page.click('#sign-out');
    await page.waitForSelector('#sign-in');

    expect((await api('GET', '/v1/accounts/me', undefined, accessToken)).status).toBe(401);
    const replay = await fetch(`${server}/dashboard/api/v1/keys`, { headers: { cookie: cookiesBefore } });
    expect(replay.status).toBe(401);
    expect(await page.evaluate(async () => (await fetch('/dashboard/session')).status)).toBe(401);

    // Signing in again asks for the password, not the lingering /oidc browser session.
    await page.click('#sign-in');
    await page.waitForSelector('#password');
  });
});
