/**
 * Two-factor sign-in and SSO end to end: the real `signet` CLI against a real all-in-one (built,
 * PostgreSQL + Redis), the browser steps in real Chromium through Playwright, codes made by otplib from
 * the enrolled secret, and a real OpenID Provider (oidc-provider in a child process) as the org's SSO
 * provider.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { authenticator } from 'otplib';
import type { Browser, Page } from 'playwright-core';

import { waitFor } from '@signet/testing';

import { Cli, launchChromium } from '../support/cli';
import { freePort } from '../support/ports';
import { Backend, realBackend, testEnv } from '../support/signet';
import { SpawnedApp } from '../support/spawn';

jest.setTimeout(120_000);

const ALICE = 'alice@example.com';
const ALICE_PASSWORD = 'correct horse battery staple';
const IDP_SECRET = 'idp-client-secret-that-nobody-may-log-0123456789';
const LOGIN_URL = /http:\/\/127\.0\.0\.1:\d+\/oidc\/auth\?\S+/;

/** The org's SSO provider: oidc-provider with its development login form (any login is a person). */
async function startIdp(redirectUri: string): Promise<{ issuer: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [join(__dirname, '..', 'support', 'sso-idp.fixture.mjs')], {
    env: { ...process.env, SSO_REDIRECT_URI: redirectUri, SSO_CLIENT_SECRET: IDP_SECRET },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const { issuer } = JSON.parse(line) as { issuer: string };
  return {
    issuer,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

describe('two-factor sign-in and SSO: signet CLI against the all-in-one', () => {
  let backend: Backend;
  let app: SpawnedApp;
  let server: string;
  let bootstrapKey: string;
  let configDir: string;
  let browser: Browser;
  let idp: { issuer: string; stop: () => Promise<void> };
  let secret: string;
  let recoveryCodes: string[];
  const running: Cli[] = [];

  const cli = (args: string[], env: Record<string, string> = {}, stdin?: string): Cli => {
    const run = Cli.run(args, { HOME: configDir, SIGNET_CONFIG_DIR: configDir, SIGNET_SERVER: server, ...env }, stdin);
    running.push(run);
    return run;
  };
  const run = (args: string[], env?: Record<string, string>, stdin?: string) => cli(args, env, stdin).result();
  const api = (method: string, path: string, body?: unknown, token = bootstrapKey) =>
    fetch(`${server}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  /** `signet login --profile <profile>`: the page it prints opened in Chromium, and the CLI run. */
  async function startLogin(profile: string): Promise<{ login: Cli; page: Page }> {
    const login = cli(['login', '--profile', profile, '--json'], { BROWSER: 'true' });
    await waitFor(() => LOGIN_URL.test(login.stderr), { timeoutMs: 10000, message: 'the CLI printing the sign-in URL' });
    const page = await browser.newPage();
    await page.goto(LOGIN_URL.exec(login.stderr)![0]);
    return { login, page };
  }

  async function password(page: Page, username = ALICE, pass = ALICE_PASSWORD): Promise<void> {
    await page.fill('#username', username);
    await page.fill('#password', pass);
    await page.click('button[type=submit]');
  }

  async function submitCode(page: Page, field: 'totp_code' | 'recovery_code', value: string): Promise<void> {
    if (field === 'recovery_code') await page.click('summary');
    await page.fill(`#${field}`, value);
    await page.click('button[type=submit]');
    await page.waitForLoadState();
  }

  async function signedIn(login: Cli, page: Page): Promise<{ code: number | null; json: unknown }> {
    await page.waitForURL(/127\.0\.0\.1:\d+\/callback/);
    expect(await page.textContent('body')).toContain('Signed in to Signet');
    await page.close();
    return login.result();
  }

  /** The problem code the sign-in page shows. */
  const pageCode = (page: Page) => page.getAttribute('.error', 'data-code');

  /** A code otplib makes for `secret` at `offsetSteps` time steps from now. */
  const codeAt = (offsetSteps: number) => authenticator.clone({ epoch: Date.now() + offsetSteps * 30_000 }).generate(secret);
  /** A six-digit code valid for no step within the accepted drift. */
  const wrongCode = () => ['000000', '111111', '222222', '333333'].find((c) => ![-1, 0, 1].some((o) => codeAt(o) === c))!;

  beforeAll(async () => {
    backend = await realBackend('totpsso');
    const port = await freePort();
    server = `http://127.0.0.1:${port}`;
    // The public URL is the one the browser uses: the SSO redirect URI is built from it.
    app = await SpawnedApp.start('signet', testEnv({ ...backend.env, SIGNET_HTTP_PORT: String(port), SIGNET_PUBLIC_URL: server, SIGNET_LOG_LEVEL: 'debug' })).ready();
    const signupCode = /Sign-up code for the first account[^\n]*\n(su_\S+)/.exec(app.stdout)![1];
    bootstrapKey = /^(sk_\S+)$/m.exec(app.stdout)![1];
    const owner = await fetch(`${server}/v1/accounts/sign-up`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ signup_code: signupCode, username: ALICE, password: ALICE_PASSWORD }),
    });
    expect(owner.status).toBe(201);
    configDir = await fs.mkdtemp(join(tmpdir(), 'signet-totp-sso-'));
    browser = await launchChromium();
    idp = await startIdp(`${server}/sign-in/sso/callback`);
  });

  afterAll(async () => {
    for (const c of running) if (c.child.exitCode === null) c.child.kill();
    await browser?.close();
    await idp?.stop();
    await app?.stop();
    await backend?.cleanup();
    if (configDir) await fs.rm(configDir, { recursive: true, force: true });
  });

  it('enrols TOTP through the API (signet totp): pending until a first code, the secret shown once', async () => {
    const { login, page } = await startLogin('alice');
    await password(page);
    expect(await signedIn(login, page)).toMatchObject({ code: 0, json: { username: ALICE, role: 'owner' } });

    const enrol = await run(['totp', 'enrol', '--profile', 'alice', '--json']);
    expect(enrol.code).toBe(0);
    ({ secret } = enrol.json as { secret: string });
    expect(enrol.json).toMatchObject({ status: 'pending', otpauth_uri: expect.stringMatching(/^otpauth:\/\/totp\/Signet:alice%40example\.com\?secret=[A-Z2-7]+&/) });
    expect(await run(['totp', 'status', '--profile', 'alice', '--json'])).toMatchObject({ code: 0, json: { status: 'pending' } });
    // Pending: signing in still needs the password only (checked below through the page), and a wrong code does not turn it on.
    const wrong = await run(['totp', 'confirm', wrongCode(), '--profile', 'alice', '--json']);
    expect(wrong).toMatchObject({ code: 1, json: { details: { status: 400, code: 'invalid_totp_code' } } });

    const confirmed = await run(['totp', 'confirm', codeAt(0), '--profile', 'alice', '--json']);
    expect(confirmed.code).toBe(0);
    ({ recovery_codes: recoveryCodes } = confirmed.json as { recovery_codes: string[] });
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    expect(await run(['totp', 'status', '--profile', 'alice', '--json'])).toMatchObject({ json: { status: 'on', recovery_codes_left: 10 } });
    // Once on, a new enrolment is refused (disable first); the secret is not answered again.
    const again = await api('POST', '/v1/accounts/me/totp', undefined, JSON.parse(await fs.readFile(join(configDir, 'credentials.json'), 'utf8')).profiles.alice.access_token);
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ code: 'totp_already_enabled' });
    // A session is required: an API key has no account.
    expect(await (await api('GET', '/v1/accounts/me/totp')).json()).toMatchObject({ code: 'session_required' });
  });

  it('signet login asks for the code after the password; a wrong and a replayed code are refused', async () => {
    const first = await startLogin('alice-totp');
    await password(first.page);
    await first.page.waitForSelector('#totp_code');
    await submitCode(first.page, 'totp_code', wrongCode());
    expect(await pageCode(first.page)).toBe('invalid_totp_code');
    // The next step's code: within the accepted drift, and of a step not used yet.
    const fresh = codeAt(1);
    await submitCode(first.page, 'totp_code', fresh);
    expect(await signedIn(first.login, first.page)).toMatchObject({ code: 0, json: { profile: 'alice-totp', username: ALICE } });
    expect((await run(['keys', 'list', '--profile', 'alice-totp'])).code).toBe(0);

    // The same code again, still within its window: its time step was used.
    const second = await startLogin('alice-replay');
    await password(second.page);
    await submitCode(second.page, 'totp_code', fresh);
    expect(await pageCode(second.page)).toBe('invalid_totp_code');
    // A recovery code finishes this sign-in (case does not matter).
    await submitCode(second.page, 'recovery_code', recoveryCodes[0].toUpperCase());
    expect(await signedIn(second.login, second.page)).toMatchObject({ code: 0, json: { profile: 'alice-replay' } });
  });

  it('a recovery code signs in once', async () => {
    const again = await startLogin('alice-recovery');
    await password(again.page);
    await submitCode(again.page, 'recovery_code', recoveryCodes[0]);
    expect(await pageCode(again.page)).toBe('invalid_totp_code');
    await submitCode(again.page, 'recovery_code', recoveryCodes[1]);
    expect(await signedIn(again.login, again.page)).toMatchObject({ code: 0 });
    expect(await run(['totp', 'status', '--profile', 'alice', '--json'])).toMatchObject({ json: { status: 'on', recovery_codes_left: 8 } });
  });

  it('wrong codes are throttled; disabling needs the password or a code', async () => {
    const noProof = await run(['totp', 'disable', '--profile', 'alice', '--json']);
    expect(noProof.code).toBe(2);
    const wrongPassword = await run(['totp', 'disable', '--password-stdin', '--profile', 'alice', '--json'], {}, 'not the password at all\n');
    expect(wrongPassword).toMatchObject({ code: 1, json: { details: { code: 'invalid_password' } } });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const refused = await run(['totp', 'disable', '--code', wrongCode(), '--profile', 'alice', '--json']);
      statuses.push((refused.json as { details: { status: number } }).details.status);
    }
    // Four wrong codes, the fifth locks, and while locked even a right code is refused.
    expect(statuses).toEqual([400, 400, 400, 400, 429, 429]);
    const locked = await run(['totp', 'disable', '--code', codeAt(1), '--profile', 'alice', '--json']);
    expect(locked).toMatchObject({ code: 1, json: { details: { status: 429, code: 'totp_throttled', retry_after_seconds: expect.any(Number) } } });
    // The password still works (it has its own check, argon2id), and turns TOTP off.
    expect(await run(['totp', 'disable', '--password-stdin', '--profile', 'alice', '--json'], {}, `${ALICE_PASSWORD}\n`)).toMatchObject({ code: 0, json: { status: 'off' } });
    expect(await run(['totp', 'status', '--profile', 'alice', '--json'])).toMatchObject({ json: { status: 'off' } });
  });

  it('SSO settings: problem codes for misconfiguration, the client secret never answered', async () => {
    expect(await (await api('GET', '/v1/sso')).json()).toMatchObject({ code: 'sso_not_configured' });
    const settings = { name: 'Example IdP', issuer: idp.issuer, client_id: 'signet', client_secret: IDP_SECRET, allowed_domains: ['Example.com'], default_role: 'viewer' };
    const unreachable = await api('PUT', '/v1/sso', { ...settings, issuer: `http://127.0.0.1:${await freePort()}` });
    expect(unreachable.status).toBe(422);
    expect(await unreachable.json()).toMatchObject({ code: 'sso_discovery_failed' });
    const plainHttp = await api('PUT', '/v1/sso', { ...settings, issuer: 'http://idp.example.com' });
    expect(await plainHttp.json()).toMatchObject({ status: 400, code: 'invalid_sso_settings' });
    expect(await (await api('PUT', '/v1/sso', { ...settings, allowed_domains: [] })).json()).toMatchObject({ code: 'invalid_sso_settings' });
    expect((await api('PUT', '/v1/sso', { ...settings, default_role: 'owner' })).status).toBe(400);

    const saved = await api('PUT', '/v1/sso', settings);
    expect(saved.status).toBe(200);
    const text = await saved.text();
    expect(text).not.toContain(IDP_SECRET);
    expect(JSON.parse(text)).toMatchObject({ issuer: idp.issuer, client_secret_set: true, allowed_domains: ['example.com'], default_role: 'viewer', redirect_uri: `${server}/sign-in/sso/callback` });
  });

  /** Through the sign-in page's SSO button, the IdP's login form as `login`. */
  async function ssoSignIn(profile: string, login: string): Promise<{ run: Cli; page: Page; authorization: URL }> {
    const started = await startLogin(profile);
    const request = started.page.waitForRequest((r) => r.url().startsWith(`${idp.issuer}/auth?`));
    await started.page.click('text=Sign in with Example IdP');
    const authorization = new URL((await request).url());
    await started.page.waitForSelector('input[name=login]');
    await started.page.fill('input[name=login]', login);
    await started.page.fill('input[name=password]', 'anything');
    await started.page.click('button[type=submit]');
    await started.page.waitForLoadState();
    // The IdP's consent step for its client, the first time.
    if (started.page.url().startsWith(idp.issuer)) await started.page.click('button[type=submit]');
    await started.page.waitForURL((url) => !url.href.startsWith(idp.issuer));
    return { run: started.login, page: started.page, authorization };
  }

  it('SSO: Chromium signs in through the IdP, the CLI gets a session that works on /v1, matched by sub next time', async () => {
    const first = await ssoSignIn('carol', 'carol@example.com');
    // Code flow with PKCE S256, a state and a nonce, back to the registered redirect URI.
    const params = Object.fromEntries(first.authorization.searchParams);
    expect(params).toMatchObject({ response_type: 'code', client_id: 'signet', code_challenge_method: 'S256', redirect_uri: `${server}/sign-in/sso/callback`, scope: 'openid email profile' });
    expect(params.state).toMatch(/^[\w-]{20,}$/);
    expect(params.nonce).toMatch(/^[\w-]{20,}$/);
    const signed = await signedIn(first.run, first.page);
    expect(signed).toMatchObject({ code: 0, json: { profile: 'carol', username: 'carol@example.com', role: 'viewer' } });
    expect((await run(['keys', 'list', '--profile', 'carol'])).code).toBe(0);
    // A viewer made by SSO reads only, as any viewer.
    expect((await run(['keys', 'create', '--name', 'nope', '--profile', 'carol', '--json'])).json).toMatchObject({ details: { code: 'insufficient_scope' } });
    // Their own second factor is theirs to manage, viewer or not.
    expect(await run(['totp', 'enrol', '--profile', 'carol', '--json'])).toMatchObject({ code: 0, json: { status: 'pending' } });

    const second = await ssoSignIn('carol-2', 'carol@example.com');
    const again = await signedIn(second.run, second.page);
    expect((again.json as { account_id: string }).account_id).toBe((signed.json as { account_id: string }).account_id);
  });

  it('SSO: a disallowed or unverified e-mail and a refused client secret give their problem codes', async () => {
    const evil = await ssoSignIn('mallory', 'mallory@evil.example');
    expect(await pageCode(evil.page)).toBe('sso_domain_not_allowed');
    await evil.page.close();
    evil.run.child.kill();

    const unverified = await ssoSignIn('unverified', 'unverified@example.com');
    expect(await pageCode(unverified.page)).toBe('sso_email_not_verified');
    await unverified.page.close();
    unverified.run.child.kill();

    // Existing accounts only: a new person is refused.
    const settings = { name: 'Example IdP', issuer: idp.issuer, client_id: 'signet', client_secret: IDP_SECRET, allowed_domains: ['example.com'], default_role: null };
    expect((await api('PUT', '/v1/sso', settings)).status).toBe(200);
    const newcomer = await ssoSignIn('dave', 'dave@example.com');
    expect(await pageCode(newcomer.page)).toBe('sso_no_account');
    await newcomer.page.close();
    newcomer.run.child.kill();

    // Discovery passes, but the provider refuses the client secret at the token endpoint.
    expect((await api('PUT', '/v1/sso', { ...settings, client_secret: 'not-the-secret' })).status).toBe(200);
    const refused = await ssoSignIn('carol-3', 'carol@example.com');
    expect(await pageCode(refused.page)).toBe('sso_provider_error');
    await refused.page.close();
    refused.run.child.kill();

    // Nothing secret was logged (the logs are at debug level in this test).
    const logs = app.stdout + app.stderr;
    expect(logs).toContain('SSO sign-in refused');
    for (const value of [IDP_SECRET, ALICE_PASSWORD, secret, ...recoveryCodes]) expect(logs).not.toContain(value);
  });
});
