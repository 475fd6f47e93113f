import { filterCovers } from './topic';

const PLACEHOLDER_LEVEL = /^\{([a-z_]+)\}$/;

/**
 * Is every topic `requested` can ever reach also reachable through one of
 * `granted`? Used to stop a restricted key from creating a key or a token
 * with rights it does not hold. Both sides are permission templates:
 *
 * - in `requested`, a placeholder level (`{user_id}`, `{client_id}`) can be
 *   filled with any single safe level, so it counts as `+`; `{org_id}` is the
 *   caller's own org;
 * - in `granted`, `{org_id}` is the org too, but any other placeholder is
 *   filled from the *caller's* credential at use (its name, its client id),
 *   so it covers only that one value, never `+`: it is kept as a literal that
 *   nothing requested can equal.
 */
export function templateCovered(granted: readonly string[], requested: string, orgId: string): boolean {
  const req = requested.split('/').map((level) => {
    const m = PLACEHOLDER_LEVEL.exec(level);
    if (!m) return level;
    return m[1] === 'org_id' ? orgId : '+';
  });
  return granted.some((g) => {
    const levels = g.split('/').map((level) => (level === '{org_id}' ? orgId : level));
    return filterCovers(levels, req);
  });
}
