/**
 * Keyset ("seek") pagination for lists shown newest first: a page ends at a
 * row's (timestamp, id), and the next page starts strictly after it, so pages
 * stay stable while rows are inserted and no OFFSET scan grows with the page
 * number. The cursor is opaque to clients: base64url of `[iso, id]`.
 */
export interface KeysetPosition {
  at: Date;
  id: string;
}

export function encodeKeysetCursor(position: KeysetPosition): string {
  return Buffer.from(JSON.stringify([position.at.toISOString(), position.id])).toString('base64url');
}

/** The position a cursor names, or null when it is not one {@link encodeKeysetCursor} made. */
export function decodeKeysetCursor(cursor: string): KeysetPosition | null {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(decoded) || decoded.length !== 2) return null;
    const [at, id] = decoded as unknown[];
    if (typeof at !== 'string' || typeof id !== 'string' || id === '' || Number.isNaN(Date.parse(at))) return null;
    return { at: new Date(at), id };
  } catch {
    return null;
  }
}

/**
 * SQL condition for "after `position`" in `ORDER BY <atColumn> DESC, <idColumn> DESC`,
 * with its parameters named `keysetAt` and `keysetId` (for TypeORM's query builder).
 */
export function keysetAfter(
  atColumn: string,
  idColumn: string,
  position: KeysetPosition,
): { where: string; parameters: { keysetAt: Date; keysetId: string } } {
  return {
    where: `(${atColumn}, ${idColumn}) < (:keysetAt, :keysetId)`,
    parameters: { keysetAt: position.at, keysetId: position.id },
  };
}

/**
 * Cuts `rows` (fetched with `limit + 1`) to one page and makes the cursor of
 * the next page, null on the last one.
 */
export function keysetPage<T>(
  rows: readonly T[],
  limit: number,
  positionOf: (row: T) => KeysetPosition,
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeKeysetCursor(positionOf(last)) : null };
}

/** A page size asked for (maybe absent, fractional or out of range) as one the list serves: 1..max, `fallback` when absent. */
export function pageLimit(asked: number | undefined, fallback: number, max: number): number {
  return Math.min(Math.max(Math.trunc(Number(asked ?? fallback)) || fallback, 1), max);
}
