import type { SignetConfig } from '@signet/config';
import type { AccessTokenAlg } from '@signet/credentials';

/** Tunables of the token feature; the composition builds them from its config with {@link tokensOptionsFrom}. */
export interface TokensOptions {
  /** TTL of a token whose request names none (SIGNET_TOKEN_DEFAULT_TTL), lowered to the org's cap. */
  defaultTtlSeconds: number;
  /** No token lives longer (SIGNET_TOKEN_MAX_TTL), whatever the request or the org allows. */
  maxTtlSeconds: number;
  /** Lifetime of each refresh token from its issue (SIGNET_REFRESH_TTL). */
  refreshTtlSeconds: number;
  /** The algorithm of signing keys created from now on (SIGNET_TOKEN_SIGNING_ALG): the first, and each rotation's. */
  signingAlg: AccessTokenAlg;
  /** Per-address bucket of the endpoints called without an API key (SIGNET_PUBLIC_RATE_PER_IP, SIGNET_PUBLIC_BURST_PER_IP). */
  publicRateLimit: { ratePerSecond: number; burst: number };
  /** The retention job (TokenRetentionModule): SIGNET_PRUNE_INTERVAL_MS (0: never) and SIGNET_RETENTION_DAYS. */
  retention: { pruneIntervalMs: number; retentionDays: number };
}

export const TOKENS_OPTIONS = Symbol('TOKENS_OPTIONS');

export function tokensOptionsFrom(config: SignetConfig): TokensOptions {
  const { defaultTtlSeconds, maxTtlSeconds, refreshTtlSeconds, signingAlg } = config.tokens;
  const { ratePerSecond, burst } = config.upkeep.publicRateLimit;
  const { pruneIntervalMs, retentionDays } = config.upkeep.retention;
  return {
    defaultTtlSeconds,
    maxTtlSeconds,
    refreshTtlSeconds,
    signingAlg,
    publicRateLimit: { ratePerSecond, burst },
    retention: { pruneIntervalMs, retentionDays },
  };
}
