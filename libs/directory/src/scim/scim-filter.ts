import { parse } from 'scim2-parse-filter';

import type { GroupCondition, UserCondition } from '../directory.repository';
import { SCIM_TYPES, ScimError } from '../errors';

const MAX_FILTER_LENGTH = 1024;

const USER_ATTRIBUTES: Record<string, UserCondition['attribute']> = {
  username: 'userName',
  externalid: 'externalId',
  'emails.value': 'emails.value',
  emails: 'emails.value',
  displayname: 'displayName',
};
const GROUP_ATTRIBUTES: Record<string, GroupCondition['attribute']> = { displayname: 'displayName', externalid: 'externalId' };

const invalidFilter = (detail: string) => new ScimError(400, detail, SCIM_TYPES.invalidFilter);

/**
 * A SCIM filter (parsed by scim2-parse-filter) as a conjunction of `eq`
 * conditions: what IdPs send to find a user or group before provisioning it.
 * Anything else is 400 `invalidFilter` rather than a slow in-memory scan.
 */
export function userConditions(filter: string | undefined): UserCondition[] {
  return conditions(filter, USER_ATTRIBUTES);
}

export function groupConditions(filter: string | undefined): GroupCondition[] {
  return conditions(filter, GROUP_ATTRIBUTES);
}

type Ast = { op: string; attrPath?: string; compValue?: unknown; filters?: Ast[] };

function conditions<A extends string>(filter: string | undefined, attributes: Record<string, A>): Array<{ attribute: A; value: string }> {
  if (filter === undefined || filter.trim() === '') return [];
  if (filter.length > MAX_FILTER_LENGTH) throw invalidFilter(`filter must be at most ${MAX_FILTER_LENGTH} characters`);
  let ast: Ast;
  try {
    ast = parse(filter) as Ast;
  } catch {
    throw invalidFilter('the filter does not parse (RFC 7644 §3.4.2.2)');
  }
  const out: Array<{ attribute: A; value: string }> = [];
  const walk = (node: Ast): void => {
    if (node.op === 'and') return node.filters!.forEach(walk);
    if (node.op !== 'eq') throw invalidFilter(`only 'eq' and 'and' are supported, not '${node.op}'`);
    const attribute = attributes[stripSchema(node.attrPath ?? '').toLowerCase()];
    if (!attribute) throw invalidFilter(`filtering on '${node.attrPath}' is not supported; use ${Object.values(attributes).join(', ')}`);
    if (typeof node.compValue !== 'string') throw invalidFilter(`'${node.attrPath}' compares to a string`);
    out.push({ attribute, value: node.compValue });
  };
  walk(ast);
  return out;
}

/** `urn:ietf:params:scim:schemas:core:2.0:User:userName` → `userName`. */
export const stripSchema = (path: string): string => path.replace(/^urn:ietf:params:scim:schemas:core:2\.0:(?:User|Group):/i, '');
