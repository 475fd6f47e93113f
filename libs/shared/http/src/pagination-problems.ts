import { decodeKeysetCursor, type KeysetPosition, pageLimit } from '@signet/persistence';

import { HTTP_ERRORS } from './errors';
import { badRequest, ProblemError } from './problem';

/** The problem of a list's `cursor` that no page of this API returned; every paginated list answers it. */
export const invalidCursor = (): ProblemError => badRequest(HTTP_ERRORS.invalidCursor, 'cursor is not one this API returned');

/**
 * A list request's page size (clamped to 1..`max`, `fallback` when absent or not a number) and the
 * position its cursor names; a cursor that does not decode is {@link invalidCursor}.
 */
export function keysetRequest(limit: number | undefined, cursor: string | undefined, sizes: { fallback: number; max: number }): { limit: number; after?: KeysetPosition } {
  const size = pageLimit(limit, sizes.fallback, sizes.max);
  if (cursor === undefined) return { limit: size };
  const after = decodeKeysetCursor(cursor);
  if (after === null) throw invalidCursor();
  return { limit: size, after };
}
