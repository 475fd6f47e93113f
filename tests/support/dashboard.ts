import type { BrowserContext, Page } from 'playwright-core';

import { freePort } from './ports';
import { Backend, testEnv } from './signet';
import { SpawnedApp } from './spawn';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

/** A built all-in-one whose public URL is its own address: the dashboard's callback is registered there. */
export async function startForDashboard(backend: Backend, extra: Record<string, string> = {}): Promise<{ app: SpawnedApp; server: string; bootstrapKey: string; signupCode: string }> {
  const port = await freePort();
  const server = `http://127.0.0.1:${port}`;
  const app = await SpawnedApp.start('signet', testEnv({ ...backend.env, SIGNET_HTTP_PORT: String(port), SIGNET_PUBLIC_URL: server, ...extra })).ready();
  const code = /Sign-up code for the first account[^\n]*\n(su_\S+)/.exec(app.stdout);
  const key = /^(sk_\S+)$/m.exec(app.stdout);
  if (!code || !key) throw new Error(`no sign-up code or bootstrap key in the banner: ${app.stdout}`);
  return { app, server, bootstrapKey: key[1], signupCode: code[1] };
}

/** Signs in from the dashboard's own "Sign in" link; the first time with the sign-up code. */
export async function signIn(page: Page, server: string, username: string, password: string, signupCode?: string): Promise<void> {
  await page.goto(`${server}/dashboard`);
  await page.click('#sign-in');
  await page.waitForSelector('#username');
  await page.fill('#username', username);
  await page.fill('#password', password);
  if (signupCode) {
    await page.click('summary');
    await page.fill('#signup_code', signupCode);
  }
  await page.click('button[type=submit]');
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
