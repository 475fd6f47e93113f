/**
 * An org's authentication configuration changed (its chain, webhook, CAs,
 * certificate rule): a notice that travels the revocation path like a
 * revocation, so every edge drops what it cached about the org at once
 * instead of after its cache period, and an edge that was cut off gets it on
 * catch-up. The id names no credential: the deny list holds it harmlessly
 * until it lapses.
 */
export const AUTH_CONFIG_CHANGED = 'auth_config_changed';
const PREFIX = 'authcfg:';

/** Long enough for an edge reconnecting to the bus to replay it; edges' caches expire anyway after 30 s. */
export const AUTH_CONFIG_NOTICE_MS = 60_000;

export const authConfigChangeId = (orgId: string): string => `${PREFIX}${orgId}`;

/** The orgs a revocation event announces a configuration change for. */
export function orgsOfAuthConfigChange(credentialIds: readonly string[]): string[] {
  return credentialIds.filter((id) => id.startsWith(PREFIX)).map((id) => id.slice(PREFIX.length));
}
