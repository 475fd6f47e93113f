import { createHash, timingSafeEqual } from 'node:crypto';

/** Cookies, origins and forwarded paths of the dashboard: pure functions, unit-tested. */

export const SESSION_COOKIE = 'signet_dashboard';
export const LOGIN_COOKIE = 'signet_dashboard_login';
/** Set by sign-out: the next sign-in asks for the password again instead of reusing the /oidc browser session. */
export const SIGNED_OUT_COOKIE = 'signet_dashboard_signed_out';
export const COOKIE_PATH = '/dashboard';
export const CSRF_HEADER = 'x-csrf-token';

export const sha256 = (value: string): string => createHash('sha256').update(value).digest('base64url');

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    // The first of two cookies with one name wins, as browsers send the most specific path first.
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

export interface CookieOptions {
  maxAgeSeconds: number;
  secure: boolean;
  sameSite: 'Lax' | 'Strict';
}

/** httpOnly always: page JavaScript never sees a dashboard cookie. */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${value}`, `Path=${COOKIE_PATH}`, `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`, 'HttpOnly', `SameSite=${options.sameSite}`];
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

/**
 * A state-changing call comes from a page of this origin: the Origin header is the public URL's origin
 * or the origin the request was sent to. Browsers send Origin on every non-GET fetch; without it, only
 * `Sec-Fetch-Site: same-origin` vouches for the caller.
 */
export function sameOrigin(headers: { origin?: string; secFetchSite?: string }, allowed: readonly string[]): boolean {
  if (headers.origin !== undefined && headers.origin !== '') return allowed.includes(headers.origin);
  return headers.secFetchSite === 'same-origin';
}

export function tokensEqual(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

const FORWARDED = /^\/v1\/[A-Za-z0-9._~!$&'()*+,;=:@/-]*(\?[A-Za-z0-9._~!$&'()*+,;=:@/?%-]*)?$/;

/**
 * The /v1 route a call to `/dashboard/api/<rest>` stands for, or null: only /v1, no dot segment, no
 * percent-encoding in the path (which could hide one), so a forwarded call cannot reach /oidc or
 * anything but the public API with the session's bearer.
 */
export function forwardedPath(rest: string): string | null {
  if (!FORWARDED.test(rest)) return null;
  const path = rest.split('?')[0];
  if (path.split('/').some((segment) => segment === '.' || segment === '..') || path.includes('//')) return null;
  return rest;
}
