import { scimInvalidValue } from '../errors';
import { SCIM_SCHEMAS, type ScimResource } from './scim-resources';

/** startIndex (1-based) and count of a SCIM list (RFC 7644 §3.4.2.4): absurd values are clamped, garbage refused. */
export function pageOf(startIndex: string | undefined, count: string | undefined, maxResults: number): { offset: number; limit: number; startIndex: number } {
  const start = startIndex === undefined ? 1 : Number(startIndex);
  const size = count === undefined ? maxResults : Number(count);
  if (!Number.isInteger(start) || !Number.isInteger(size)) throw scimInvalidValue('startIndex and count must be integers');
  const first = Math.max(1, start);
  return { offset: first - 1, limit: Math.min(Math.max(0, size), maxResults), startIndex: first };
}

export const listResponse = (total: number, startIndex: number, resources: ScimResource[]): ScimResource => ({
  schemas: [SCIM_SCHEMAS.listResponse],
  totalResults: total,
  startIndex,
  itemsPerPage: resources.length,
  Resources: resources,
});
