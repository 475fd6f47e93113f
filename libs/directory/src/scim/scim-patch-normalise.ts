import { scimPatch, ScimError as PatchLibraryError, type ScimPatchOperation, type ScimResource as LibraryResource } from 'scim-patch';

import { SCIM_TYPES, ScimError, type ScimType } from '../errors';
import { SCIM_SCHEMAS, type ScimResource } from './scim-resources';
import { stripSchema } from './scim-filter';

const BOOLEAN_ATTRIBUTES = new Set(['active', 'primary']);
const MAX_OPERATIONS = 1000;

const invalid = (detail: string) => new ScimError(400, detail, SCIM_TYPES.invalidSyntax);

/**
 * PATCH bodies as Okta and Entra ID send them, made into what RFC 7644 §3.5.2
 * (and scim-patch) expect, against the resource they apply to:
 *  - `op` in any letter case (Entra: "Replace", "Add", "Remove");
 *  - "True"/"False" strings for booleans (Entra), in a value or an object value;
 *  - paths with the core schema URN in front, and object values keyed that way;
 *  - Add on a single-valued attribute is a Replace (Okta, Entra);
 *  - a Remove of `members` with a value list becomes one `members[value eq "…"]` per member;
 *  - a Replace of `emails[type eq "work"].value` when no such e-mail exists adds one.
 */
export function normalisePatch(body: unknown, resource: ScimResource): ScimPatchOperation[] {
  if (typeof body !== 'object' || body === null) throw invalid('the body must be a SCIM PatchOp');
  const b = body as Record<string, unknown>;
  const schemas = b.schemas;
  if (!Array.isArray(schemas) || !schemas.includes(SCIM_SCHEMAS.patchOp)) throw invalid(`schemas must list ${SCIM_SCHEMAS.patchOp}`);
  const ops = b.Operations ?? b.operations;
  if (!Array.isArray(ops) || ops.length === 0 || ops.length > MAX_OPERATIONS) throw invalid(`Operations must list 1 to ${MAX_OPERATIONS} operations`);
  return ops.flatMap((raw, i) => normaliseOperation(raw, i, resource));
}

function normaliseOperation(raw: unknown, i: number, resource: ScimResource): ScimPatchOperation[] {
  if (typeof raw !== 'object' || raw === null) throw invalid(`Operations[${i}] must be an object`);
  const r = raw as Record<string, unknown>;
  const op = typeof r.op === 'string' ? r.op.toLowerCase() : '';
  if (op !== 'add' && op !== 'replace' && op !== 'remove') throw invalid(`Operations[${i}].op must be add, replace or remove`);
  if (r.path !== undefined && typeof r.path !== 'string') throw invalid(`Operations[${i}].path must be a string`);
  const path = r.path === undefined ? undefined : stripSchema(r.path);
  const value = booleans(path === undefined ? stripSchemaKeys(r.value) : r.value, lastSegment(path));

  if (op === 'remove') {
    if (path === undefined) throw new ScimError(400, `Operations[${i}]: remove needs a path`, SCIM_TYPES.noTarget);
    if (path === 'members' && Array.isArray(value)) {
      return value.map((m) => ({ op: 'remove', path: `members[value eq ${JSON.stringify(memberId(m, i))}]` }));
    }
    return [{ op: 'remove', path }];
  }
  if (path === undefined) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`Operations[${i}]: an operation without path needs an object value`);
    // A dotted key (Entra: "name.givenName") sets that sub-attribute only, not the whole complex attribute.
    const entries = Object.entries(value);
    const whole = Object.fromEntries(entries.filter(([k]) => !k.includes('.')));
    const parts: ScimPatchOperation[] = entries.filter(([k]) => k.includes('.')).map(([k, v]) => ({ op: 'replace', path: k, value: v }));
    return Object.keys(whole).length > 0 ? [{ op: op === 'add' ? 'add' : 'replace', value: whole }, ...parts] : parts;
  }
  const plain = !path.includes('[') && !path.includes('.');
  if (op === 'add' && plain && !Array.isArray(resource[path]) && !Array.isArray(value)) return [{ op: 'replace', path, value }];
  const filtered = /^(\w+)\[type eq "([^"]*)"\]\.(\w+)$/.exec(path);
  if (op === 'replace' && filtered) {
    const [, attribute, type, sub] = filtered;
    const list = Array.isArray(resource[attribute]) ? (resource[attribute] as Array<Record<string, unknown>>) : [];
    if (!list.some((e) => e.type === type)) return [{ op: 'add', path: attribute, value: [{ type, [sub]: value }] }];
  }
  return [{ op, path, value }];
}

function memberId(m: unknown, i: number): string {
  const id = typeof m === 'object' && m !== null ? (m as Record<string, unknown>).value : undefined;
  if (typeof id !== 'string') throw invalid(`Operations[${i}].value[].value must be a string`);
  return id;
}

const lastSegment = (path: string | undefined): string | undefined => path?.split(/[.\]]/).filter(Boolean).pop();

/** "True"/"False" → booleans, for boolean attributes only (a displayName "True" stays a string). */
function booleans(value: unknown, attribute: string | undefined): unknown {
  if (typeof value === 'string' && attribute !== undefined && BOOLEAN_ATTRIBUTES.has(attribute) && /^(true|false)$/i.test(value)) {
    return value.toLowerCase() === 'true';
  }
  if (Array.isArray(value)) return value.map((v) => booleans(v, attribute));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, booleans(v, k)]));
  }
  return value;
}

/** Path-less values keyed by `urn:…:User:active` (Entra) as plain attributes. */
function stripSchemaKeys(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [stripSchema(k), v]));
}

/** The resource after a PATCH body (normalised, then applied by scim-patch); scim-patch's errors become SCIM 400s. */
export function applyPatch(body: unknown, current: ScimResource): ScimResource {
  const operations = normalisePatch(body, current);
  try {
    return scimPatch(structuredClone(current) as unknown as LibraryResource, operations) as unknown as ScimResource;
  } catch (err) {
    if (err instanceof PatchLibraryError) throw new ScimError(400, err.message, (err.scimCode as ScimType | undefined) ?? SCIM_TYPES.invalidValue);
    throw err;
  }
}
