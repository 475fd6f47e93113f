import type { DirectoryEmail, DirectoryGroup, DirectoryGroupFields, DirectoryUser, DirectoryUserFields } from '../directory.repository';
import { scimInvalidValue } from '../errors';

/** RFC 7643 schema URNs. */
export const SCIM_SCHEMAS = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  enterpriseUser: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  listResponse: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patchOp: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  serviceProviderConfig: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
} as const;

export const SCIM_CONTENT_TYPE = 'application/scim+json';

export type ScimResource = Record<string, unknown>;

export const etagOf = (version: number): string => `W/"${version}"`;

/** `W/"3"` → 3; anything else (or `*`) → undefined: no precondition we can check. */
export function versionOfEtag(header: string | undefined): number | undefined {
  const m = /^(?:W\/)?"(\d+)"$/.exec((header ?? '').trim());
  return m ? Number(m[1]) : undefined;
}

export function toScimUser(u: DirectoryUser, baseUrl: string): ScimResource {
  return {
    schemas: [SCIM_SCHEMAS.user],
    id: u.id,
    ...(u.externalId !== null ? { externalId: u.externalId } : {}),
    userName: u.userName,
    ...(u.displayName !== null ? { displayName: u.displayName } : {}),
    ...(u.name !== null ? { name: u.name } : {}),
    emails: u.emails,
    active: u.active,
    groups: u.groups.map((g) => ({ value: g.id, display: g.displayName, $ref: `${baseUrl}/Groups/${g.id}` })),
    meta: meta('User', u, `${baseUrl}/Users/${u.id}`),
  };
}

export function toScimGroup(g: DirectoryGroup, baseUrl: string): ScimResource {
  return {
    schemas: [SCIM_SCHEMAS.group],
    id: g.id,
    ...(g.externalId !== null ? { externalId: g.externalId } : {}),
    displayName: g.displayName,
    members: g.members.map((m) => ({ value: m.id, display: m.userName, $ref: `${baseUrl}/Users/${m.id}` })),
    meta: meta('Group', g, `${baseUrl}/Groups/${g.id}`),
  };
}

const meta = (resourceType: string, r: { version: number; createdAt: Date; updatedAt: Date }, location: string) => ({
  resourceType,
  created: r.createdAt.toISOString(),
  lastModified: r.updatedAt.toISOString(),
  location,
  version: etagOf(r.version),
});

const MAX_STRING = 256;

function optionalString(value: unknown, field: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > MAX_STRING) throw scimInvalidValue(`${field} must be a string of at most ${MAX_STRING} characters`);
  return value;
}

function requiredString(value: unknown, field: string): string {
  const s = optionalString(value, field);
  if (s === null || s.trim() === '') throw scimInvalidValue(`${field} is required`);
  return s;
}

/** A SCIM boolean; IdPs (Entra) send "True"/"False" strings too. */
export function scimBoolean(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw scimInvalidValue(`${field} must be a boolean`);
}

/** The stored fields of a SCIM User body (POST, PUT, or the result of a PATCH); read-only attributes are ignored. */
export function userFieldsOf(body: unknown): DirectoryUserFields {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw scimInvalidValue('the body must be a SCIM User object');
  const b = body as Record<string, unknown>;
  return {
    externalId: optionalString(b.externalId, 'externalId'),
    userName: requiredString(b.userName, 'userName'),
    displayName: optionalString(b.displayName, 'displayName'),
    name: nameOf(b.name),
    emails: emailsOf(b.emails),
    active: scimBoolean(b.active, 'active', true),
  };
}

function nameOf(value: unknown): Record<string, string> | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw scimInvalidValue('name must be an object');
  const out: Record<string, string> = {};
  for (const key of ['formatted', 'familyName', 'givenName', 'middleName', 'honorificPrefix', 'honorificSuffix']) {
    const v = optionalString((value as Record<string, unknown>)[key], `name.${key}`);
    if (v !== null) out[key] = v;
  }
  return out;
}

function emailsOf(value: unknown): DirectoryEmail[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > 16) throw scimInvalidValue('emails must be a list of at most 16 entries');
  return value.map((e, i) => {
    if (typeof e !== 'object' || e === null) throw scimInvalidValue(`emails[${i}] must be an object`);
    const r = e as Record<string, unknown>;
    const type = optionalString(r.type, `emails[${i}].type`);
    return {
      value: requiredString(r.value, `emails[${i}].value`),
      ...(type !== null ? { type } : {}),
      ...(r.primary !== undefined ? { primary: scimBoolean(r.primary, `emails[${i}].primary`, false) } : {}),
    };
  });
}

export function groupFieldsOf(body: unknown): DirectoryGroupFields {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw scimInvalidValue('the body must be a SCIM Group object');
  const b = body as Record<string, unknown>;
  const members = b.members ?? [];
  if (!Array.isArray(members)) throw scimInvalidValue('members must be a list');
  const memberIds = members.map((m, i) => {
    const id = typeof m === 'object' && m !== null ? (m as Record<string, unknown>).value : undefined;
    if (typeof id !== 'string') throw scimInvalidValue(`members[${i}].value must be a string`);
    return id;
  });
  return {
    externalId: optionalString(b.externalId, 'externalId'),
    displayName: requiredString(b.displayName, 'displayName'),
    // Ids that are no UUID are no user of ours; the repository ignores unknown ones alike.
    memberIds: [...new Set(memberIds.filter(isUuid))],
  };
}

export const isUuid = (s: string): boolean => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
