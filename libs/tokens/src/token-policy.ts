import type { ApiKeyPrincipal } from '@signet/api-keys';
import { mqttGrants, userIdProblem } from '@signet/credentials';
import { badRequest } from '@signet/http';
import { DEFAULT_PERMISSIONS, Permissions, templateCovered, templateProblem } from '@signet/permissions';

import { mqttPrivilegeEscalation, TOKEN_ERRORS } from './errors';
import type { TokensOptions } from './options';

/*
 * The issuance policies, pure functions of their inputs: every way of getting
 * a token (issue, refresh, IdP exchange) applies them, and the unit specs test
 * them without HTTP or a database.
 */

/** The process-wide TTL limits a token is capped by. */
export type TtlLimits = Pick<TokensOptions, 'defaultTtlSeconds' | 'maxTtlSeconds'>;

/** At most this many filters per direction: the ACL is compiled at every CONNECT and travels in the token. */
export const MAX_FILTERS_PER_DIRECTION = 64;
/** Per filter; ample for real topic trees, small enough to keep tokens compact. */
export const MAX_FILTER_LENGTH = 256;
/** The permissions' JSON; keeps a `tkn_` well inside MAX_ACCESS_TOKEN_LENGTH (16 KiB) after base64url. */
export const MAX_PERMISSIONS_BYTES = 8 * 1024;
/** MQTT client identifiers are UTF-8 strings (MQTT 5.0 §3.1.3.1); bounded here to keep tokens small. */
export const MAX_CLIENT_ID_LENGTH = 256;

export function checkUserId(userId: string): string {
  const problem = userIdProblem(userId);
  if (problem) throw badRequest(TOKEN_ERRORS.invalidUserId, `user_id ${problem}`);
  return userId;
}

export function checkClientId(clientId: string | undefined): string | null {
  if (clientId === undefined) return null;
  if (clientId.length === 0 || clientId.length > MAX_CLIENT_ID_LENGTH) {
    throw badRequest(TOKEN_ERRORS.invalidClientId, `client_id must be 1 to ${MAX_CLIENT_ID_LENGTH} characters`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(clientId)) {
    throw badRequest(TOKEN_ERRORS.invalidClientId, 'client_id must not contain control characters');
  }
  return clientId;
}

/**
 * The TTL a token gets: the request's, or the configured default; never more
 * than min(process maximum, org maximum). A default above the org's cap is
 * lowered to it; an explicit request above it is refused.
 */
export function resolveTtl(requested: number | undefined, limits: TtlLimits, orgMaxSeconds: number | null): number {
  const cap = ttlCap(limits, orgMaxSeconds);
  if (requested === undefined) return Math.min(limits.defaultTtlSeconds, cap);
  // The DTO already refuses these (validation_failed); kept for callers that bypass it.
  if (!Number.isInteger(requested) || requested < 1) {
    throw badRequest(TOKEN_ERRORS.invalidTtl, 'ttl_seconds must be a positive integer');
  }
  if (requested > cap) {
    throw badRequest(TOKEN_ERRORS.ttlTooLong, `ttl_seconds must not exceed ${cap}`, { max_ttl_seconds: cap });
  }
  return requested;
}

/**
 * A refreshed token keeps the lifetime of the one it replaces, re-capped in
 * case the limits were lowered since; never below one second.
 */
export function refreshedTtl(previous: { issuedAt: Date; expiresAt: Date }, limits: TtlLimits, orgMaxSeconds: number | null): number {
  const previousTtl = Math.round((previous.expiresAt.getTime() - previous.issuedAt.getTime()) / 1000);
  return Math.max(1, Math.min(previousTtl, ttlCap(limits, orgMaxSeconds)));
}

const ttlCap = (limits: TtlLimits, orgMaxSeconds: number | null): number => Math.min(limits.maxTtlSeconds, orgMaxSeconds ?? Infinity);

/**
 * A restricted key cannot hand out MQTT rights it does not hold: every filter
 * of the token (the default `users/{user_id}/#` included) must be covered by
 * the key's own `mqtt:publish:` / `mqtt:subscribe:` scopes. Secret keys hold
 * every right in their org.
 */
export function checkNoEscalation(caller: ApiKeyPrincipal, permissions: Permissions): void {
  if (caller.type === 'secret') return;
  const held = mqttGrants(caller.scopes);
  const missing = [
    ...permissions.publish.filter((f) => !templateCovered(held.publish, f, caller.orgId)).map((f) => `publish ${f}`),
    ...permissions.subscribe.filter((f) => !templateCovered(held.subscribe, f, caller.orgId)).map((f) => `subscribe ${f}`),
  ];
  if (missing.length > 0) throw mqttPrivilegeEscalation(missing);
}

/**
 * The permission templates a token gets. No `permissions` → the default
 * (`users/{user_id}/#` both ways). With `permissions`, exactly what it lists:
 * an omitted direction grants nothing.
 */
export function resolvePermissions(requested: { publish?: string[]; subscribe?: string[] } | undefined): Permissions {
  if (requested === undefined) {
    return { publish: [...DEFAULT_PERMISSIONS.publish], subscribe: [...DEFAULT_PERMISSIONS.subscribe] };
  }
  const permissions = {
    publish: checkFilters('publish', requested.publish ?? []),
    subscribe: checkFilters('subscribe', requested.subscribe ?? []),
  };
  if (Buffer.byteLength(JSON.stringify(permissions)) > MAX_PERMISSIONS_BYTES) {
    throw badRequest(TOKEN_ERRORS.invalidPermission, `permissions must not exceed ${MAX_PERMISSIONS_BYTES} bytes in total`);
  }
  return permissions;
}

function checkFilters(direction: 'publish' | 'subscribe', filters: string[]): string[] {
  if (filters.length > MAX_FILTERS_PER_DIRECTION) {
    throw badRequest(TOKEN_ERRORS.invalidPermission, `permissions.${direction} may list at most ${MAX_FILTERS_PER_DIRECTION} filters`);
  }
  filters.forEach((filter, i) => {
    if (typeof filter !== 'string' || filter.length > MAX_FILTER_LENGTH) {
      throw badRequest(TOKEN_ERRORS.invalidPermission, `permissions.${direction}[${i}] must be a string of at most ${MAX_FILTER_LENGTH} characters`);
    }
    const problem = templateProblem(filter);
    if (problem) {
      throw badRequest(TOKEN_ERRORS.invalidPermission, `permissions.${direction}[${i}] '${filter}': ${problem}`, {
        field: `permissions.${direction}[${i}]`,
      });
    }
  });
  // Duplicates only cost space at every CONNECT.
  return [...new Set(filters)];
}
