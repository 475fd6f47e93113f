import {
  allowlistProblem,
  ApiKeyType,
  cidrCovered,
  MAX_SCOPES,
  scopeHeld,
  scopeProblem,
  userIdProblem,
} from '@signet/credentials';

import type { StoredApiKey } from '../api-keys.repository';
import { invalidKeyInput, KEY_ERRORS, privilegeEscalation } from '../errors';
import type { ApiKeyPrincipal } from '../principal';

/*
 * The rules of the key lifecycle. The one that matters most: a restricted key
 * can never produce, take over or widen a key with rights it does not hold
 * itself (403 `privilege_escalation`).
 */

/** Rotation grace when none is asked for: long enough to roll a deployment. */
export const DEFAULT_GRACE_SECONDS = 3600;
export const MAX_GRACE_SECONDS = 7 * 86400;

export function checkName(name: string): void {
  const problem = userIdProblem(name);
  if (problem) throw invalidKeyInput(KEY_ERRORS.invalidName, `name ${problem.replace('user_id', 'name')}`);
}

/** The scopes a new key of `type` gets: none for a secret key, a checked, de-duplicated list for a restricted one. */
export function checkScopes(type: ApiKeyType, requested: string[] | undefined): string[] {
  if (type === 'secret') {
    if (requested !== undefined && requested.length > 0) {
      throw invalidKeyInput(KEY_ERRORS.scopesNotAllowed, 'secret (sk_) keys have full access to their org and take no scopes; use type "restricted"');
    }
    return [];
  }
  if (requested === undefined || requested.length === 0) throw invalidKeyInput(KEY_ERRORS.scopesRequired, 'a restricted key needs at least one scope');
  if (requested.length > MAX_SCOPES) throw invalidKeyInput(KEY_ERRORS.invalidScope, `at most ${MAX_SCOPES} scopes`);
  requested.forEach((scope, i) => {
    const problem = scopeProblem(scope);
    if (problem) throw invalidKeyInput(KEY_ERRORS.invalidScope, `scopes[${i}] '${String(scope).slice(0, 80)}': ${problem}`, { scope });
  });
  return [...new Set(requested)];
}

export function checkAllowlist(ipAllowlist: string[] | undefined): void {
  if (ipAllowlist === undefined) return;
  const problem = allowlistProblem(ipAllowlist);
  if (problem) throw invalidKeyInput(KEY_ERRORS.invalidIpAllowlist, `ip_allowlist: ${problem}`);
}

/** An ISO 8601 date-time in the future, or null when omitted. */
export function parseExpiresAt(value: string | undefined, now: number): Date | null {
  if (value === undefined) return null;
  const t = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(t)) {
    throw invalidKeyInput(KEY_ERRORS.invalidExpiresAt, 'expires_at must be an ISO 8601 date-time, e.g. 2030-01-01T00:00:00Z');
  }
  if (t <= now) throw invalidKeyInput(KEY_ERRORS.invalidExpiresAt, 'expires_at must be in the future');
  return new Date(t);
}

export function checkGrace(graceSeconds: number): void {
  if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > MAX_GRACE_SECONDS) {
    throw invalidKeyInput(KEY_ERRORS.invalidGracePeriod, `grace_seconds must be an integer from 0 to ${MAX_GRACE_SECONDS}`);
  }
}

export interface KeyLimits {
  ipAllowlist: string[];
  expiresAt: Date | null;
}

/**
 * The limits a key created by `caller` gets: a restricted caller cannot
 * create a secret key or grant scopes it lacks; omitted limits are inherited
 * from it, and explicit ones may only narrow its own.
 */
export function limitsForNewKey(
  caller: ApiKeyPrincipal,
  type: ApiKeyType,
  scopes: readonly string[],
  requested: { ipAllowlist: string[] | undefined; expiresAt: Date | null },
): KeyLimits {
  let ipAllowlist = requested.ipAllowlist ?? [];
  let expiresAt = requested.expiresAt;
  if (caller.type === 'secret') return { ipAllowlist, expiresAt };
  if (type === 'secret') throw privilegeEscalation('a restricted key cannot create a secret key');
  const missing = scopes.filter((s) => !scopeHeld(caller.scopes, s, caller.orgId));
  if (missing.length > 0) throw privilegeEscalation(`this key does not hold: ${missing.join(', ')}`);
  if (caller.ipAllowlist.length > 0) {
    if (requested.ipAllowlist === undefined) ipAllowlist = [...caller.ipAllowlist];
    const outside = ipAllowlist.filter((e) => !cidrCovered(caller.ipAllowlist, e));
    if (ipAllowlist.length === 0 || outside.length > 0) {
      throw privilegeEscalation(`ip_allowlist must stay inside this key's own (${caller.ipAllowlist.join(', ')})`);
    }
  }
  if (caller.expiresAt !== null) {
    if (expiresAt === null) expiresAt = new Date(caller.expiresAt);
    else if (expiresAt.getTime() > caller.expiresAt) throw privilegeEscalation('the new key must not outlive this key');
  }
  return { ipAllowlist, expiresAt };
}

/** A restricted key may manage (rotate, revoke) only itself and keys whose rights it holds itself. */
export function checkManageable(caller: ApiKeyPrincipal, target: StoredApiKey): void {
  if (caller.type === 'secret' || caller.keyId === target.id) return;
  if (target.type === 'secret') throw privilegeEscalation('a restricted key cannot manage a secret key');
  const missing = target.scopes.filter((s) => !scopeHeld(caller.scopes, s, caller.orgId));
  if (missing.length > 0) throw privilegeEscalation(`this key does not hold: ${missing.join(', ')}`);
  if (caller.ipAllowlist.length > 0 && (target.ipAllowlist.length === 0 || target.ipAllowlist.some((e) => !cidrCovered(caller.ipAllowlist, e)))) {
    throw privilegeEscalation("the target key's ip_allowlist is wider than this key's");
  }
}
