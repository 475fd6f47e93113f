import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { CliError, EXIT, signInRequired } from './errors';

/** The authorization server's public client for this CLI (libs/accounts). */
export const CLIENT_ID = 'signet-cli';
export const SCOPES = 'openid offline_access';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const LOGIN_TIMEOUT_MS = 5 * 60 * 1000;

export interface TokenSet {
  access_token: string;
  refresh_token?: string;
  expires_in: number;
}

const base64url = (b: Buffer): string => b.toString('base64url');

async function tokenRequest(server: string, form: Record<string, string>): Promise<TokenSet> {
  const res = await post(server, '/oidc/token', form);
  const body = (await res.json().catch(() => ({}))) as Partial<TokenSet> & { error?: string; error_description?: string };
  if (!res.ok || !body.access_token) throw new OAuthError(body.error ?? `http_${res.status}`, body.error_description ?? '');
  return body as TokenSet;
}

export class OAuthError extends Error {
  constructor(
    readonly code: string,
    description: string,
  ) {
    super(description ? `${code}: ${description}` : code);
  }
}

async function post(server: string, path: string, form: Record<string, string>): Promise<Response> {
  try {
    return await fetch(new URL(path, server), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
    });
  } catch (err) {
    throw new CliError(`cannot reach ${server}: ${(err as Error).cause ?? (err as Error).message}`, EXIT.failure);
  }
}

export interface LoopbackLogin {
  /** The URL to open; printed whatever happens. */
  url: string;
  /** Resolves with the tokens once the browser came back and the code was exchanged. */
  tokens: Promise<TokenSet>;
  close(): void;
}

/**
 * Authorization code + PKCE (S256) with a loopback redirect (RFC 8252 §7.3): one listener on 127.0.0.1
 * (a random port, or `port` for `ssh -L`) for one redirect.
 */
export async function startLoopbackLogin(server: string, port = 0): Promise<LoopbackLogin> {
  const verifier = base64url(randomBytes(32));
  const challenge = base64url(createHash('sha256').update(verifier).digest());
  const state = base64url(randomBytes(16));
  let settle!: { resolve: (code: string) => void; reject: (err: Error) => void };
  const code = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
  const listener = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    const ok = url.searchParams.get('state') === state && url.searchParams.has('code');
    res.writeHead(ok ? 200 : 400, { 'content-type': 'text/html; charset=utf-8' });
    res.end(ok ? '<!doctype html><title>Signed in</title><p>Signed in to Signet. You can close this tab and return to the terminal.</p>' : '<!doctype html><title>Sign-in failed</title><p>Sign-in failed; see the terminal.</p>');
    if (url.searchParams.get('state') !== state) settle.reject(new CliError('the browser came back with a different state: start again with `signet login`'));
    else if (url.searchParams.has('error')) settle.reject(new CliError(`sign-in refused: ${url.searchParams.get('error')} ${url.searchParams.get('error_description') ?? ''}`.trim(), EXIT.signInRequired));
    else settle.resolve(url.searchParams.get('code')!);
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', (err) => reject(new CliError(`cannot listen on 127.0.0.1:${port}: ${err.message}`, EXIT.usage)));
    listener.listen(port, '127.0.0.1', resolve);
  });
  const redirectUri = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/callback`;
  const url = new URL('/oidc/auth', server);
  for (const [k, v] of Object.entries({
    client_id: CLIENT_ID,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: SCOPES,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
  })) {
    url.searchParams.set(k, v);
  }
  const timer = setTimeout(() => settle.reject(new CliError('no sign-in within 5 minutes: run `signet login` again', EXIT.signInRequired)), LOGIN_TIMEOUT_MS);
  const close = () => {
    clearTimeout(timer);
    listener.close();
    listener.closeAllConnections();
  };
  const tokens = code
    .then((c) => tokenRequest(server, { grant_type: 'authorization_code', code: c, redirect_uri: redirectUri, client_id: CLIENT_ID, code_verifier: verifier }))
    .finally(close);
  return { url: url.toString(), tokens, close };
}

export interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete?: string;
  expires_in: number;
  interval?: number;
}

/** RFC 8628 §3.1: a user code to enter in a browser elsewhere. */
export async function startDeviceLogin(server: string): Promise<DeviceAuthorization> {
  const res = await post(server, '/oidc/device/auth', { client_id: CLIENT_ID, scope: SCOPES });
  const body = (await res.json().catch(() => ({}))) as DeviceAuthorization & { error?: string };
  if (!res.ok || !body.device_code) throw new CliError(`device authorization refused: ${body.error ?? res.status}`);
  return body;
}

/** RFC 8628 §3.4-3.5: polls until the code is approved, denied or expired. */
export async function pollDeviceLogin(server: string, device: DeviceAuthorization, onWait?: () => void): Promise<TokenSet> {
  let interval = (device.interval ?? 5) * 1000;
  const deadline = Date.now() + device.expires_in * 1000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, interval));
    try {
      return await tokenRequest(server, { grant_type: DEVICE_GRANT, device_code: device.device_code, client_id: CLIENT_ID });
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      if (err.code === 'slow_down') interval += 5000;
      else if (err.code !== 'authorization_pending') throw new CliError(`device sign-in ended: ${err.message}`, EXIT.signInRequired);
      onWait?.();
    }
  }
  throw new CliError('the device code expired: run `signet login --device` again', EXIT.signInRequired);
}

/** A rotated pair; the old refresh token is spent. An invalid grant means the session is over. */
export async function refresh(server: string, refreshToken: string): Promise<TokenSet> {
  try {
    return await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: CLIENT_ID });
  } catch (err) {
    if (err instanceof OAuthError && err.code === 'invalid_grant') throw signInRequired('the session has expired or was revoked');
    throw err;
  }
}

/** RFC 7009: 200 whether or not the token was known. */
export async function revoke(server: string, token: string, hint: 'access_token' | 'refresh_token'): Promise<void> {
  const res = await post(server, '/oidc/token/revocation', { token, token_type_hint: hint, client_id: CLIENT_ID });
  if (!res.ok) throw new CliError(`the server did not revoke the session (HTTP ${res.status})`);
}
