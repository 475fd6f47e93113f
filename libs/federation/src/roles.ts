import type { JWTPayload } from 'jose';

import { DEFAULT_PERMISSIONS, Permissions } from '@signet/permissions';

import type { ClaimMapping } from './providers/settings';

/** Paths are short; a deeper one is a mistake, not a real claim layout. */
const MAX_DEPTH = 16;
/** A token listing more roles than this has its extra roles ignored. */
const MAX_ROLES_READ = 256;

/**
 * The value at a dotted `path` in the claims. Claim names may themselves
 * contain dots (Auth0's namespaced claims are URLs such as
 * `https://example.com/roles`), so at each level the longest run of segments
 * that names an own property wins: `https://example.com/roles` is one key,
 * `app_metadata.roles` is two levels, `https://example.com/app.roles` finds
 * `{"https://example.com/app": {"roles": …}}` as well as the flat key. Only
 * own properties are read (never `__proto__`, `constructor`, …).
 */
export function claimAt(claims: unknown, path: string): unknown {
  const segments = path.split('.');
  if (segments.length > MAX_DEPTH * 8) return undefined;
  return walk(claims, segments, 0, 0);
}

function walk(value: unknown, segments: string[], from: number, depth: number): unknown {
  if (from === segments.length) return value;
  if (depth >= MAX_DEPTH || typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  for (let to = segments.length; to > from; to--) {
    const key = segments.slice(from, to).join('.');
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    const found = walk((value as Record<string, unknown>)[key], segments, to, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Roles in a claim: a string is one role, a list keeps its strings; anything else is no role. */
export function rolesFrom(value: unknown): string[] {
  if (typeof value === 'string') return value === '' ? [] : [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v !== '').slice(0, MAX_ROLES_READ);
  return [];
}

/**
 * The permission templates an IdP user gets: the provider's `permissions`
 * (or the core default) plus what `role_permissions` grants each role found
 * at `role_claim`. A role with no entry grants nothing; so does a missing or
 * malformed role claim. Placeholders are filled later, by the edge.
 */
export function mapPermissions(mapping: ClaimMapping, claims: JWTPayload): { permissions: Permissions; roles: string[] } {
  const base = mapping.permissions ?? DEFAULT_PERMISSIONS;
  const publish = new Set(base.publish);
  const subscribe = new Set(base.subscribe);
  const roles = mapping.role_claim === undefined ? [] : rolesFrom(claimAt(claims, mapping.role_claim));
  const granted: string[] = [];
  const table = mapping.role_permissions ?? {};
  for (const role of roles) {
    if (!Object.prototype.hasOwnProperty.call(table, role)) continue;
    granted.push(role);
    table[role].publish.forEach((f) => publish.add(f));
    table[role].subscribe.forEach((f) => subscribe.add(f));
  }
  return { permissions: { publish: [...publish], subscribe: [...subscribe] }, roles: granted };
}
