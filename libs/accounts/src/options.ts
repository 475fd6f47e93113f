import type { SignetConfig } from '@signet/config';

/** Tunables of accounts and sign-in; the composition builds them with {@link accountsOptionsFrom}. */
export interface AccountsOptions {
  /** The authorization server's issuer: `<SIGNET_PUBLIC_URL>/oidc`. */
  issuer: string;
  /** Where the SSO provider sends people back: `<SIGNET_PUBLIC_URL>/sign-in/sso/callback`. */
  ssoRedirectUri: string;
  /** Access-token lifetime of a session (SIGNET_SESSION_TTL_S, ≤ 1 h). */
  accessTokenTtlSeconds: number;
  /** Refresh-token lifetime (SIGNET_SESSION_REFRESH_TTL_S); rotated at every use. */
  refreshTokenTtlSeconds: number;
  /** How often expired sign-in rows are deleted (SIGNET_PRUNE_INTERVAL_MS); 0 = never. */
  pruneIntervalMs: number;
}

export const SSO_CALLBACK_PATH = '/sign-in/sso/callback';

export const ACCOUNTS_OPTIONS = Symbol('ACCOUNTS_OPTIONS');

export function accountsOptionsFrom(config: SignetConfig): AccountsOptions {
  const base = (config.signIn.publicUrl ?? `http://localhost:${config.ports.http}`).replace(/\/+$/, '');
  return {
    issuer: `${base}/oidc`,
    ssoRedirectUri: `${base}${SSO_CALLBACK_PATH}`,
    accessTokenTtlSeconds: config.signIn.accessTokenTtlSeconds,
    refreshTokenTtlSeconds: config.signIn.refreshTokenTtlSeconds,
    pruneIntervalMs: config.upkeep.retention.pruneIntervalMs,
  };
}
