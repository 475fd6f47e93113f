/**
 * Sign-in for people end to end: the real `signet` CLI (bin/signet.js, a child process) against a real
 * all-in-one (built, PostgreSQL + Redis), the browser step in real Chromium through Playwright.
 * login (first account from the sign-up code) → keys create → tokens create → MQTT connect with the
 * token → sessions list shows it → sessions kick closes it (MQTT 5 DISCONNECT 0x98) → logout (the session
 * is refused afterwards); the device grant headless; logout --all; the backend's commands (keys rotate and
 * usage, tokens list and revoke-user, IdP providers, org settings, acl check); the credentials file.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Browser } from 'playwright-core';

import { waitFor } from '@signet/testing';

import { Cli, launchChromium } from '../support/cli';
import { fillSignInPage } from '../support/dashboard';
import { connect, nextMessage, serverClosed } from '../support/mqtt';
import { Backend, realBackend, testEnv } from '../support/signet';
import { SpawnedApp } from '../support/spawn';

const USERNAME = 'alice@example.com';
const PASSWORD = 'correct horse battery staple';

describe('sign-in: signet CLI against the all-in-one', () => {
  let backend: Backend;
  let app: SpawnedApp;
  let server: string;
  let mqttPort: number;
  let signupCode: string;
  let bootstrapKey: string;
  let configDir: string;
  let browser: Browser;

  const running: Cli[] = [];
  const cli = (args: string[], env: Record<string, string> = {}, stdin?: string): Cli => {
    // No DISPLAY: `signet login` would pick the device grant by itself unless BROWSER names a browser.
    const run = Cli.run(args, { HOME: configDir, SIGNET_CONFIG_DIR: configDir, SIGNET_SERVER: server, ...env }, stdin);
    running.push(run);
    return run;
  };
  const run = (args: string[], env?: Record<string, string>) => cli(args, env).result();

  /** Fills the server's sign-in page; the first time with the sign-up code (creates the owner). */
  const signInOnPage = (page: import('playwright-core').Page, withCode: boolean, username = USERNAME, password = PASSWORD) =>
    fillSignInPage(page, username, password, withCode ? signupCode : undefined);

  beforeAll(async () => {
    backend = await realBackend('signin');
    app = await SpawnedApp.start('signet', testEnv(backend.env)).ready();
    server = `http://127.0.0.1:${app.port('HTTP API')}`;
    mqttPort = app.port('MQTT');
    const code = /Sign-up code for the first account[^\n]*\n(su_\S+)/.exec(app.stdout);
    if (!code) throw new Error(`no sign-up code in the banner: ${app.stdout}`);
    signupCode = code[1];
    bootstrapKey = /^(sk_\S+)$/m.exec(app.stdout)![1];
    configDir = await fs.mkdtemp(join(tmpdir(), 'signet-cli-e2e-'));
    browser = await launchChromium();
  });

  afterAll(async () => {
    // A CLI still waiting for a browser after a failed test.
    for (const c of running) if (c.child.exitCode === null) c.child.kill();
    await browser?.close();
    await app?.stop();
    await backend?.cleanup();
    if (configDir) await fs.rm(configDir, { recursive: true, force: true });
  });

  it('login in Chromium → keys create → tokens create → MQTT → sessions list → sessions kick (0x98) → logout, refused afterwards', async () => {
    // BROWSER=true: the CLI "opens" a browser that does nothing; Playwright follows the printed URL.
    const login = cli(['login', '--json'], { BROWSER: 'true' });
    await waitFor(() => /http:\/\/127\.0\.0\.1:\d+\/oidc\/auth\?\S+/.test(login.stderr), { timeoutMs: 10000, message: 'the CLI printing the sign-in URL' });
    const url = /http:\/\/127\.0\.0\.1:\d+\/oidc\/auth\?\S+/.exec(login.stderr)![0];
    expect(new URL(url).searchParams.get('code_challenge_method')).toBe('S256');
    const page = await browser.newPage();
    await page.goto(url);
    await signInOnPage(page, true);
    await page.waitForURL(/127\.0\.0\.1:\d+\/callback/);
    expect(await page.textContent('body')).toContain('Signed in to Signet');
    await page.close();
    const signedIn = await login.result();
    expect(signedIn.code).toBe(0);
    expect(signedIn.json).toMatchObject({ profile: 'default', server, username: USERNAME, role: 'owner' });

    // The stored session: private directory and file.
    const file = join(configDir, 'credentials.json');
    expect((await fs.stat(configDir)).mode & 0o777).toBe(0o700);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(await fs.readFile(file, 'utf8')).profiles.default;
    expect(stored).toMatchObject({ server, account: { username: USERNAME, role: 'owner' } });

    const whoami = await run(['whoami', '--json']);
    expect(whoami).toMatchObject({ code: 0, json: { source: 'profile', profile: 'default', username: USERNAME, role: 'owner' } });

    const key = await run(['keys', 'create', '--name', 'ci', '--json']);
    expect(key.code).toBe(0);
    const apiKey = (key.json as { key: string }).key;
    expect(apiKey).toMatch(/^sk_/);
    // The key made by a session works as a key (SIGNET_TOKEN, as CI would use it).
    const listed = await run(['keys', 'list', '--json'], { SIGNET_TOKEN: apiKey });
    expect(listed.code).toBe(0);
    expect((listed.json as { keys: Array<{ name: string }> }).keys.map((k) => k.name)).toEqual(expect.arrayContaining(['bootstrap', 'ci']));

    const token = await run(['tokens', 'create', '--user', 'device-7', '--publish', 'devices/{user_id}/#', '--subscribe', 'devices/{user_id}/#', '--json']);
    expect(token.code).toBe(0);
    const { mqtt_credentials: mqttCredentials } = token.json as { mqtt_credentials: { username: string; password: string } };
    const client = await connect(`mqtt://127.0.0.1:${mqttPort}`, { ...mqttCredentials, clientId: 'device-7-cli', protocolVersion: 5, reconnectPeriod: 0 });
    try {
      await client.subscribeAsync('devices/device-7/#');
      const message = nextMessage(client);
      await client.publishAsync('devices/device-7/hello', 'from the CLI token');
      expect(await message).toEqual({ topic: 'devices/device-7/hello', payload: 'from the CLI token' });

      // The live session, as the CLI lists it, then kicked by client id: the client hears 0x98.
      const listed = await run(['sessions', 'list', '--json']);
      expect(listed.code).toBe(0);
      expect((listed.json as { sessions: unknown[] }).sessions).toEqual([
        expect.objectContaining({
          client_id: 'device-7-cli',
          user_id: 'device-7',
          username: mqttCredentials.username,
          credential_kind: 'token',
          credential_id: (token.json as { token_id: string }).token_id,
          transport: 'tcp',
          protocol_version: 5,
        }),
      ]);
      const byUser = await run(['sessions', 'list', '--user', 'device-7', '--client-id', 'device-7-cli']);
      expect(byUser.code).toBe(0);
      const closed = serverClosed(client);
      const kicked = await run(['sessions', 'kick', 'device-7-cli', '--json']);
      expect(kicked).toMatchObject({ code: 0, json: { client_id: 'device-7-cli', kicked: true } });
      expect((await closed).reasonCode).toBe(0x98);
      await waitFor(async () => ((await run(['sessions', 'list', '--json'])).json as { sessions: unknown[] }).sessions.length === 0, { timeoutMs: 5000, message: 'kicked session unlisted' });
      const again = await run(['sessions', 'kick', 'device-7-cli', '--json']);
      expect(again).toMatchObject({ code: 1, json: { details: { status: 404, code: 'session_not_found' } } });
    } finally {
      client.end(true);
    }

    const logout = await run(['logout', '--json']);
    expect(logout).toMatchObject({ code: 0, json: { signed_out: true, revoked: true } });
    expect(JSON.parse(await fs.readFile(file, 'utf8')).profiles).toEqual({});
    // Server side: the access token no longer opens the API, the refresh token no longer refreshes.
    const refused = await fetch(`${server}/v1/keys`, { headers: { authorization: `Bearer ${stored.access_token}` } });
    expect(refused.status).toBe(401);
    const refreshed = await fetch(`${server}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: stored.refresh_token, client_id: 'signet-cli' }),
    });
    expect(refreshed.status).toBe(400);
    expect(await refreshed.json()).toMatchObject({ error: 'invalid_grant' });
    const after = await run(['whoami']);
    expect(after.code).toBe(3);
    expect(after.stderr).toContain('run `signet login`');
  });

  it('device grant, headless: the user code approved in Chromium; refresh rotates and reuse ends the session', async () => {
    // No BROWSER and no DISPLAY: the CLI picks the device grant by itself.
    const login = cli(['login', '--profile', 'dev', '--json']);
    await waitFor(() => /\(or open (\S+)\)/.test(login.stderr), { timeoutMs: 10000, message: 'the CLI printing the sign-in URL' });
    expect(login.stderr).toMatch(/enter the code \S+/);
    const complete = /\(or open (\S+)\)/.exec(login.stderr)![1];
    const page = await browser.newPage();
    await page.goto(complete);
    await page.click('button[type=submit]');
    await signInOnPage(page, false);
    await page.waitForLoadState();
    expect(await page.textContent('body')).toMatch(/success/i);
    await page.close();
    const signedIn = await login.result();
    expect(signedIn).toMatchObject({ code: 0, json: { profile: 'dev', username: USERNAME } });

    const file = join(configDir, 'credentials.json');
    const before = JSON.parse(await fs.readFile(file, 'utf8')).profiles.dev;
    // An access token at its end: the next command refreshes by itself, with a rotated refresh token.
    await fs.writeFile(file, JSON.stringify({ version: 1, profiles: { dev: { ...before, expires_at: Date.now() } } }), { mode: 0o600 });
    const keys = await run(['keys', 'list', '--profile', 'dev', '--json']);
    expect(keys.code).toBe(0);
    const after = JSON.parse(await fs.readFile(file, 'utf8')).profiles.dev;
    expect(after.access_token).not.toBe(before.access_token);
    expect(after.refresh_token).not.toBe(before.refresh_token);

    // Reusing the spent refresh token revokes the whole grant: the rotated session ends too.
    const reuse = await fetch(`${server}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: before.refresh_token, client_id: 'signet-cli' }),
    });
    expect(reuse.status).toBe(400);
    const ended = await run(['keys', 'list', '--profile', 'dev']);
    expect(ended.code).toBe(3);
    // One line that says what to do, no stack trace.
    expect(ended.stderr).toMatch(/^error: .*run `signet login`\n$/);
  });

  it('a viewer added by the owner signs in and reads, and is refused writes', async () => {
    const added = await cli(['accounts', 'create', '--username', 'bob', '--role', 'viewer', '--password-stdin', '--json'], { SIGNET_TOKEN: bootstrapKey }, 'viewer password 123\n').result();
    expect(added).toMatchObject({ code: 0, json: { username: 'bob', role: 'viewer' } });
    const login = cli(['login', '--device', '--profile', 'viewer', '--json']);
    await waitFor(() => /\(or open (\S+)\)/.test(login.stderr), { timeoutMs: 10000, message: 'the CLI printing the device URL' });
    const page = await browser.newPage();
    await page.goto(/\(or open (\S+)\)/.exec(login.stderr)![1]);
    await page.click('button[type=submit]');
    await signInOnPage(page, false, 'bob', 'viewer password 123');
    await page.waitForLoadState();
    await page.close();
    expect(await login.result()).toMatchObject({ code: 0, json: { username: 'bob', role: 'viewer' } });
    expect((await run(['keys', 'list', '--profile', 'viewer'])).code).toBe(0);
    const write = await run(['keys', 'create', '--name', 'nope', '--profile', 'viewer', '--json']);
    expect(write.code).toBe(1);
    expect(write.json).toMatchObject({ details: { status: 403, code: 'insufficient_scope' } });
    // Live sessions: a viewer lists them, and may not kick one.
    expect((await run(['sessions', 'list', '--profile', 'viewer'])).code).toBe(0);
    expect(await run(['sessions', 'kick', 'any-client', '--profile', 'viewer', '--json'])).toMatchObject({ code: 1, json: { details: { status: 403, code: 'insufficient_scope' } } });
    // A viewer adds nobody.
    const escalate = await cli(['accounts', 'create', '--username', 'eve', '--role', 'owner', '--password-stdin', '--profile', 'viewer'], {}, 'another password 1\n').result();
    expect(escalate.code).toBe(1);
  });

  /** A device-grant sign-in of `username` under `profile`, approved in Chromium. */
  async function deviceLogin(profile: string, username = USERNAME, password = PASSWORD): Promise<void> {
    const login = cli(['login', '--device', '--profile', profile, '--json']);
    await waitFor(() => /\(or open (\S+)\)/.test(login.stderr), { timeoutMs: 10000, message: 'the CLI printing the device URL' });
    const page = await browser.newPage();
    await page.goto(/\(or open (\S+)\)/.exec(login.stderr)![1]);
    await page.click('button[type=submit]');
    await signInOnPage(page, false, username, password);
    await page.waitForLoadState();
    await page.close();
    expect(await login.result()).toMatchObject({ code: 0, json: { profile, username } });
  }

  it('logout --all ends every sign-in of the account, a viewer included', async () => {
    await deviceLogin('laptop');
    await deviceLogin('desktop');
    const file = join(configDir, 'credentials.json');
    const desktop = JSON.parse(await fs.readFile(file, 'utf8')).profiles.desktop;
    const out = await run(['logout', '--all', '--profile', 'laptop', '--json']);
    expect(out).toMatchObject({ code: 0, json: { signed_out: true, revoked: true, all: true } });
    expect((out.json as { revoked_grants: number }).revoked_grants).toBeGreaterThanOrEqual(2);
    // The other profile's session is over on the server: its token and its refresh token are refused.
    expect((await fetch(`${server}/v1/keys`, { headers: { authorization: `Bearer ${desktop.access_token}` } })).status).toBe(401);
    expect((await run(['keys', 'list', '--profile', 'desktop'])).code).toBe(3);
    // A viewer may sign itself out everywhere too (its only write).
    await deviceLogin('viewer2', 'bob', 'viewer password 123');
    expect(await run(['logout', '--all', '--profile', 'viewer2', '--json'])).toMatchObject({ code: 0, json: { revoked: true, all: true } });
  });

  it('the split services accept the same session on their /v1 routes (the key service here)', async () => {
    await deviceLogin('split');
    const session = JSON.parse(await fs.readFile(join(configDir, 'credentials.json'), 'utf8')).profiles.split;
    const keyService = await SpawnedApp.start('apikey-service', testEnv(backend.env)).ready();
    try {
      const keys = `http://127.0.0.1:${keyService.port('HTTP API')}/v1/keys`;
      const listed = await fetch(keys, { headers: { authorization: `Bearer ${session.access_token}` } });
      expect(listed.status).toBe(200);
      expect(((await listed.json()) as { keys: Array<{ name: string }> }).keys.map((k) => k.name)).toContain('bootstrap');
      expect((await run(['logout', '--profile', 'split', '--json'])).code).toBe(0);
      expect((await fetch(keys, { headers: { authorization: `Bearer ${session.access_token}` } })).status).toBe(401);
    } finally {
      await keyService.stop();
    }
  });

  it("a backend's curl work from the CLI: keys rotate and usage, tokens list and revoke-user, IdP providers, org settings, acl check", async () => {
    const env = { SIGNET_TOKEN: bootstrapKey };
    const made = await run(['keys', 'create', '--name', 'rotating', '--json'], env);
    const keyId = (made.json as { id: string }).id;
    const rotated = await run(['keys', 'rotate', keyId, '--grace', '0', '--json'], env);
    expect(rotated.code).toBe(0);
    expect(rotated.json).toMatchObject({ name: 'rotating', key: expect.stringMatching(/^sk_/), previous: { id: keyId } });
    const usage = await run(['keys', 'usage', (rotated.json as { id: string }).id, '--interval', 'day', '--json'], env);
    expect(usage).toMatchObject({ code: 0, json: { interval: 'day', totals: { api_calls: expect.any(Number) } } });
    expect((await run(['keys', 'revoke', (rotated.json as { id: string }).id], env)).code).toBe(0);

    await run(['tokens', 'create', '--user', 'acl-user', '--publish', 'devices/{user_id}/up', '--subscribe', 'devices/{user_id}/#', '--json'], env);
    const second = await run(['tokens', 'create', '--user', 'acl-user', '--client-id', 'pump-1', '--publish', 'pumps/{client_id}/state', '--json'], env);
    const tkn = (second.json as { mqtt_credentials: { password: string } }).mqtt_credentials.password;
    const listed = await run(['tokens', 'list', '--user', 'acl-user', '--status', 'active', '--json'], env);
    expect((listed.json as { tokens: unknown[] }).tokens).toHaveLength(2);

    const allowed = await run(['acl', 'check', 'acl-user', 'publish', 'devices/acl-user/up', '--json'], env);
    expect(allowed).toMatchObject({ code: 0, json: { allowed: true, rule: 'devices/{user_id}/up' } });
    expect(await run(['acl', 'check', 'acl-user', 'subscribe', 'devices/acl-user/+', '--json'], env)).toMatchObject({ code: 0, json: { allowed: true, rule: 'devices/{user_id}/#' } });
    const denied = await run(['acl', 'check', 'acl-user', 'publish', 'devices/someone-else/up', '--json'], env);
    expect(denied).toMatchObject({ code: 5, json: { allowed: false, rule: null } });
    expect(await run(['acl', 'check', tkn, 'publish', 'pumps/pump-1/state', '--json'], env)).toMatchObject({ code: 0, json: { allowed: true, rule: 'pumps/{client_id}/state' } });
    expect((await run(['acl', 'check', tkn, 'publish', 'pumps/pump-2/state'], env)).code).toBe(5);
    expect((await run(['acl', 'check', 'acl-user', 'publish', 'bad/#'], env)).code).toBe(2);
    expect((await run(['acl', 'check', 'acl-user', 'delete', 'x'], env)).code).toBe(2);

    expect(await run(['tokens', 'revoke-user', 'acl-user', '--json'], env)).toMatchObject({ code: 0, json: { user_id: 'acl-user', revoked: 2 } });
    expect(await run(['acl', 'check', 'acl-user', 'publish', 'devices/acl-user/up', '--json'], env)).toMatchObject({ code: 5, json: { allowed: false, tokens: [] } });

    const idp = cli(['idp', 'create', '--kind', 'supabase', '--name', 'main', '--set', 'project_url=https://abc.supabase.co', '--settings-stdin', '--json'], env, JSON.stringify({ jwt_secret: 'super-secret-jwt-token-with-at-least-32-characters' }));
    const created = await idp.result();
    expect(created).toMatchObject({ code: 0, json: { kind: 'supabase', name: 'main', has_secret: true } });
    const providers = await run(['idp', 'list', '--json'], env);
    expect((providers.json as { providers: Array<{ name: string }> }).providers.map((p) => p.name)).toContain('main');
    expect((await run(['idp', 'delete', (created.json as { id: string }).id], env)).code).toBe(0);

    expect(await run(['org', 'set', 'will_on_revoke=publish', '--json'], env)).toMatchObject({ code: 0, json: { will_on_revoke: 'publish' } });
    expect(await run(['org', 'get', '--json'], env)).toMatchObject({ code: 0, json: { will_on_revoke: 'publish' } });
    expect((await run(['org', 'set', 'will_on_revoke=sometimes'], env)).code).toBe(1);
    await run(['org', 'set', 'will_on_revoke=suppress'], env);
    // Every command has --help.
    for (const group of ['sessions', 'keys', 'tokens', 'idp', 'org', 'acl']) expect((await run([group, '--help'])).code).toBe(0);
  });

  it('bad input: problem+json on /v1/accounts, OAuth errors on /oidc, never a 500', async () => {
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${server}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const used = await post('/v1/accounts/sign-up', { signup_code: signupCode, username: 'mallory', password: 'long enough password' });
    expect(used.status).toBe(401);
    expect(used.headers.get('content-type')).toContain('application/problem+json');
    expect(await used.json()).toMatchObject({ code: 'invalid_signup_code' });
    expect((await post('/v1/accounts/sign-up', { username: 'x' })).status).toBe(400);
    const key = { authorization: `Bearer ${bootstrapKey}` };
    expect(await (await post('/v1/accounts', { username: 'a b', password: 'long enough password', role: 'viewer' }, key)).json()).toMatchObject({ code: 'invalid_username' });
    expect(await (await post('/v1/accounts', { username: 'carol', password: 'short', role: 'viewer' }, key)).json()).toMatchObject({ code: 'weak_password' });
    expect((await post('/v1/accounts', { username: 'bob', password: 'long enough password', role: 'viewer' }, key)).status).toBe(409);
    const me = await fetch(`${server}/v1/accounts/me`, { headers: key });
    expect(me.status).toBe(401);
    expect(await me.json()).toMatchObject({ code: 'session_required' });
    const unknownSession = await fetch(`${server}/v1/keys`, { headers: { authorization: 'Bearer not-a-session-token-at-all-0123' } });
    expect(unknownSession.status).toBe(401);

    // PKCE plain and a foreign redirect URI are refused by the authorization server.
    const auth = (params: Record<string, string>) =>
      fetch(`${server}/oidc/auth?${new URLSearchParams({ client_id: 'signet-cli', response_type: 'code', scope: 'openid', state: 's', redirect_uri: 'http://127.0.0.1:9/callback', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', ...params })}`, { redirect: 'manual' });
    const plain = await auth({ code_challenge_method: 'plain' });
    expect(plain.headers.get('location') ?? '').toContain('error=invalid_request');
    expect((await auth({ redirect_uri: 'https://evil.example/callback' })).status).toBe(400);
    expect((await auth({ code_challenge: '', code_challenge_method: '' })).headers.get('location') ?? '').toContain('error=invalid_request');
    const token = await fetch(`${server}/oidc/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=authorization_code&code=nope&client_id=signet-cli&redirect_uri=http://127.0.0.1:9/callback&code_verifier=' + 'v'.repeat(43) });
    expect(token.status).toBe(400);
    expect(await token.json()).toMatchObject({ error: 'invalid_grant' });
    expect((await fetch(`${server}/sign-in/unknown-interaction`)).status).toBe(400);
  });

  it('refuses a credentials file others can read, and usage errors exit 2', async () => {
    const file = join(configDir, 'credentials.json');
    await fs.chmod(file, 0o644);
    const refused = await run(['whoami']);
    expect(refused.code).toBe(4);
    await fs.chmod(file, 0o600);
    expect((await run(['login', '--callback-port', 'x'])).code).toBe(2);
    expect((await run(['keys', 'nope'])).code).toBe(2);
  });
});
