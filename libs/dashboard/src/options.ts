import { accountsOptionsFrom } from '@signet/accounts';
import type { SignetConfig } from '@signet/config';

/** Tunables of the dashboard; the composition builds them with {@link dashboardOptionsFrom}. */
export interface DashboardOptions {
  /** Where people reach the HTTP API (SIGNET_PUBLIC_URL): the callback and the allowed Origin derive from it. */
  publicUrl: string;
  /** Session lifetime: the refresh token's (SIGNET_SESSION_REFRESH_TTL_S). */
  sessionTtlSeconds: number;
}

export const DASHBOARD_OPTIONS = Symbol('DASHBOARD_OPTIONS');

export function dashboardOptionsFrom(config: SignetConfig): DashboardOptions {
  const { issuer, refreshTokenTtlSeconds } = accountsOptionsFrom(config);
  return { publicUrl: issuer.replace(/\/oidc$/, ''), sessionTtlSeconds: refreshTokenTtlSeconds };
}
