/**
 * The rows of an `UPDATE … RETURNING` run through `manager.query`: TypeORM's
 * postgres driver answers UPDATE/DELETE with `[rows, rowCount]` but other
 * statements with the rows alone.
 */
export function returningRows<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
    return result[0] as T[];
  }
  return Array.isArray(result) ? (result as T[]) : [];
}
