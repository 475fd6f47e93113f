/**
 * The stable action name of a mutating `/v1` route: `<resource>.<verb>` from the route's literal
 * segments (POST on a collection is `create`, PUT/PATCH `update`, DELETE `delete`, a POST to a
 * sub-path names its verb: `keys.rotate`), with the names the API's own words call otherwise below.
 */
const NAMED: Record<string, string> = {
  'DELETE /v1/keys/:id': 'keys.revoke',
  'DELETE /v1/tokens/:token_id': 'tokens.revoke',
  'POST /v1/users/:user_id/revoke': 'tokens.revoke_user',
  'PATCH /v1/org/settings': 'org_settings.update',
  'POST /v1/idp-providers/:id/events-secret': 'idp_providers.rotate_events_secret',
  'POST /v1/directory/scim-token': 'directory.rotate_scim_token',
  'DELETE /v1/sessions/:client_id': 'sessions.kick',
};

export function adminAction(method: string, route: string): string {
  const named = NAMED[`${method} ${route}`];
  if (named) return named;
  const literals = route
    .replace(/^\/v1\/?/, '')
    .split('/')
    .filter((s) => s !== '' && !s.startsWith(':'))
    .map((s) => s.replace(/-/g, '_'));
  const [resource = 'api', ...rest] = literals;
  const endsWithParam = /\/:[^/]+$/.test(route);
  if (method === 'POST') return rest.length > 0 && !endsWithParam ? `${resource}.${rest.join('_')}` : `${resource}.create`;
  const scope = rest.length > 0 ? `${resource}.${rest.join('_')}` : resource;
  return `${scope}.${method === 'DELETE' ? 'delete' : 'update'}`;
}

/** Fields of a creation's response that name what was created (never the secret beside them). */
const CREATED_ID_FIELDS = ['id', 'token_id', 'account_id', 'key_id', 'client_id'] as const;

export function createdId(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return null;
  for (const field of CREATED_ID_FIELDS) {
    const value = (body as Record<string, unknown>)[field];
    if (typeof value === 'string' && value.length > 0) return value;
  }
  return null;
}
