import type { Browser, BrowserContext, Page } from 'playwright-core';

import { launchChromium } from './cli';
import { freePort } from './ports';
import { Backend, realBackend, testEnv } from './signet';
import { SpawnedApp } from './spawn';

export const PASSWORD = 'correct horse battery staple';

/** Fills the server's sign-in page (/sign-in/:uid) and submits it; with a sign-up code, that makes the owner. */
export async function fillSignInPage(page: Page, username: string, password: string, signupCode?: string): Promise<void> {
  await page.waitForSelector('#username');
  await page.fill('#username', username);
  await page.fill('#password', password);
  if (signupCode) {
    await page.click('summary');
    await page.fill('#signup_code', signupCode);
  }
  await page.click('button[type=submit]');
}

/** Signs in from the dashboard's own "Sign in" link, and waits for the signed-in page. */
export async function signIn(page: Page, server: string, username: string, password: string, signupCode?: string): Promise<void> {
  await page.goto(`${server}/dashboard`);
  await page.click('#sign-in');
  await fillSignInPage(page, username, password, signupCode);
  await page.waitForSelector('#sign-out');
}

/** The dashboard's cookies of a browser context, as a Cookie header (they are scoped to /dashboard). */
export async function cookieHeader(context: BrowserContext, server: string): Promise<string> {
  return (await context.cookies(`${server}/dashboard/`)).map((c) => `${c.name}=${c.value}`).join('; ');
}

/** An API call with a bearer (an API key, or a session's access token). */
export async function callApi(server: string, bearer: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(server + path, {
    method,
    headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

/**
 * A built all-in-one on PostgreSQL and Redis whose public URL is its own address (the dashboard's
 * callback is registered there), Chromium, and the owner signed in from the sign-up code.
 */
export class DashboardHarness {
  private constructor(
    readonly backend: Backend,
    readonly app: SpawnedApp,
    readonly server: string,
    readonly bootstrapKey: string,
    readonly browser: Browser,
    readonly owner: BrowserContext,
    readonly page: Page,
  ) {}

  get mqttPort(): number {
    return this.app.port('MQTT');
  }

  static async start(label: string, ownerName: string, env: Record<string, string> = {}, contextOptions: Parameters<Browser['newContext']>[0] = {}): Promise<DashboardHarness> {
    const backend = await realBackend(label);
    let app: SpawnedApp | undefined;
    let browser: Browser | undefined;
    try {
      const port = await freePort();
      const server = `http://127.0.0.1:${port}`;
      app = await SpawnedApp.start('signet', testEnv({ ...backend.env, SIGNET_HTTP_PORT: String(port), SIGNET_PUBLIC_URL: server, ...env })).ready();
      const code = /Sign-up code for the first account[^\n]*\n(su_\S+)/.exec(app.stdout);
      const key = /^(sk_\S+)$/m.exec(app.stdout);
      if (!code || !key) throw new Error(`no sign-up code or bootstrap key in the banner: ${app.stdout}`);
      browser = await launchChromium();
      const owner = await browser.newContext(contextOptions);
      const page = await owner.newPage();
      // Confirmations accepted; a prompt (the grace period of a rotation) answered 60.
      page.on('dialog', (dialog) => void dialog.accept(dialog.type() === 'prompt' ? '60' : undefined));
      await signIn(page, server, ownerName, PASSWORD, code[1]);
      return new DashboardHarness(backend, app, server, key[1], browser, owner, page);
    } catch (err) {
      await browser?.close();
      await app?.stop();
      await backend.cleanup();
      throw err;
    }
  }

  /** A call with the bootstrap key (or another bearer). */
  api(method: string, path: string, body?: unknown, bearer = this.bootstrapKey) {
    return callApi(this.server, bearer, method, path, body);
  }

  /** Another person signed in, in a browser context of their own. */
  async signedIn(username: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await this.browser.newContext();
    const page = await context.newPage();
    await signIn(page, this.server, username, PASSWORD);
    return { context, page };
  }

  static async stop(harness: DashboardHarness | undefined): Promise<void> {
    await harness?.browser.close();
    await harness?.app.stop();
    await harness?.backend.cleanup();
  }
}
