/**
 * Sign-in for people end to end: the real `signet` CLI (bin/signet.js, a child process) against a real
 * all-in-one (built, PostgreSQL + Redis), the browser step in real Chromium through Playwright.
 * login (first account from the sign-up code) → keys create → tokens create → MQTT connect with the
 * token → logout (the session is refused afterwards); the device grant headless; the credentials file.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chromium, type Browser } from 'playwright-core';

import { waitFor } from '@signet/testing';

import { fillSignInPage } from '../support/dashboard';
import { connect, nextMessage } from '../support/mqtt';
import { Backend, realBackend, testEnv } from '../support/signet';
import { ROOT, SpawnedApp } from '../support/spawn';

const CHROMIUM = '/usr/bin/chromium';
const USERNAME = 'alice@example.com';
const PASSWORD = 'correct horse battery staple';

/** One CLI run: its output so far, and its exit. */
class Cli {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }
  async result(): Promise<{ code: number | null; json: unknown; stderr: string }> {
    const code = await this.exited;
    let json: unknown;
    try {
      json = JSON.parse(this.stdout);
    } catch {
      json = undefined;
    }
    return { code, json, stderr: this.stderr };
  }
}

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
    const run = new Cli(
      spawn(process.execPath, [join(ROOT, 'bin', 'signet.js'), ...args], {
        // No DISPLAY: `signet login` would pick the device grant by itself unless BROWSER names a browser.
        env: { PATH: process.env['PATH'], HOME: configDir, SIGNET_CONFIG_DIR: configDir, SIGNET_SERVER: server, ...env },
        stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      }),
    );
    if (stdin !== undefined) run.child.stdin!.end(stdin);
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
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });

  afterAll(async () => {
    // A CLI still waiting for a browser after a failed test.
    for (const c of running) if (c.child.exitCode === null) c.child.kill();
    await browser?.close();
    await app?.stop();
    await backend?.cleanup();
    if (configDir) await fs.rm(configDir, { recursive: true, force: true });
  });

  it('login in Chromium → keys create → tokens create → MQTT → logout, and the session is refused afterwards', async () => {
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
    const client = await connect(`mqtt://127.0.0.1:${mqttPort}`, { ...mqttCredentials, clientId: 'device-7-cli' });
    try {
      await client.subscribeAsync('devices/device-7/#');
      const message = nextMessage(client);
      await client.publishAsync('devices/device-7/hello', 'from the CLI token');
      expect(await message).toEqual({ topic: 'devices/device-7/hello', payload: 'from the CLI token' });
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
    // A viewer adds nobody.
    const escalate = await cli(['accounts', 'create', '--username', 'eve', '--role', 'owner', '--password-stdin', '--profile', 'viewer'], {}, 'another password 1\n').result();
    expect(escalate.code).toBe(1);
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
