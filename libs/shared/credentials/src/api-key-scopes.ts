import { Permissions, templateCovered, templateProblem } from '@signet/permissions';

/**
 * Scopes of restricted (`rk_`) keys. `sk_` keys hold every right in their org
 * and carry no scopes. The MQTT scopes carry a topic filter (placeholders
 * `{user_id}` = the key's name, `{client_id}`, `{org_id}` allowed):
 * `mqtt:publish:<filter>`, `mqtt:subscribe:<filter>`.
 */
export const API_KEY_SCOPES = ['tokens:write', 'tokens:read', 'tokens:revoke', 'keys:read', 'keys:write', 'idp:read', 'idp:write', 'org:read', 'org:write', 'sessions:read', 'sessions:write', 'audit:read'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];
export const MQTT_PUBLISH_SCOPE = 'mqtt:publish:';
export const MQTT_SUBSCRIBE_SCOPE = 'mqtt:subscribe:';
export const MAX_SCOPES = 64;
export const MAX_SCOPE_LENGTH = 300;

/** Why a scope is not one Signet knows, or null. */
export function scopeProblem(scope: unknown): string | null {
  if (typeof scope !== 'string' || scope.length === 0) return 'must be a non-empty string';
  if (scope.length > MAX_SCOPE_LENGTH) return `must be at most ${MAX_SCOPE_LENGTH} characters`;
  if ((API_KEY_SCOPES as readonly string[]).includes(scope)) return null;
  for (const prefix of [MQTT_PUBLISH_SCOPE, MQTT_SUBSCRIBE_SCOPE]) {
    if (scope.startsWith(prefix)) {
      const problem = templateProblem(scope.slice(prefix.length));
      return problem ? `topic filter: ${problem}` : null;
    }
  }
  return `unknown scope (known: ${API_KEY_SCOPES.join(', ')}, ${MQTT_PUBLISH_SCOPE}<filter>, ${MQTT_SUBSCRIBE_SCOPE}<filter>)`;
}

/** The MQTT grants (templates) a restricted key's scopes give it. */
export function mqttGrants(scopes: readonly string[]): Permissions {
  const publish: string[] = [];
  const subscribe: string[] = [];
  for (const s of scopes) {
    if (s.startsWith(MQTT_PUBLISH_SCOPE)) publish.push(s.slice(MQTT_PUBLISH_SCOPE.length));
    else if (s.startsWith(MQTT_SUBSCRIBE_SCOPE)) subscribe.push(s.slice(MQTT_SUBSCRIBE_SCOPE.length));
  }
  return { publish, subscribe };
}

/**
 * Does a restricted key holding `held` also hold `scope`? Plain scopes must be
 * held as such (`tokens:write` also grants `tokens:revoke`: whoever may
 * issue may take back); an MQTT scope must be covered by a held filter.
 */
export function scopeHeld(held: readonly string[], scope: string, orgId: string): boolean {
  if (held.includes(scope)) return true;
  if (scope === 'tokens:revoke') return held.includes('tokens:write');
  const grants = mqttGrants(held);
  if (scope.startsWith(MQTT_PUBLISH_SCOPE)) return templateCovered(grants.publish, scope.slice(MQTT_PUBLISH_SCOPE.length), orgId);
  if (scope.startsWith(MQTT_SUBSCRIBE_SCOPE)) return templateCovered(grants.subscribe, scope.slice(MQTT_SUBSCRIBE_SCOPE.length), orgId);
  return false;
}
