import type { SignetConfig } from '@signet/config';

/** Tunables of auth webhooks; the composition builds them from its config with {@link authWebhooksOptionsFrom}. */
export interface AuthWebhooksOptions {
  /** SIGNET_WEBHOOK_ALLOW_HTTP: plain http:// endpoints accepted (tests, local receivers). */
  allowHttp: boolean;
  /** SIGNET_WEBHOOK_ALLOW_PRIVATE: loopback, private, link-local and metadata addresses reachable. */
  allowPrivateAddresses: boolean;
  /** SIGNET_WEBHOOK_CONNECT_TIMEOUT_MS: TCP + TLS handshake. */
  connectTimeoutMs: number;
  /** SIGNET_WEBHOOK_TIMEOUT_MS, lowered below the edge's CONNECT timeout: the whole call. */
  timeoutMs: number;
  /** SIGNET_WEBHOOK_MAX_RESPONSE_BYTES: a longer answer is no answer. */
  maxResponseBytes: number;
  /** SIGNET_WEBHOOK_MAX_CACHE_SECONDS: cap on a receiver's cache_seconds for allows. */
  maxCacheSeconds: number;
  /** SIGNET_WEBHOOK_DENY_CACHE_SECONDS: how long a deny is remembered. */
  denyCacheSeconds: number;
  /** Per-org circuit breaker (SIGNET_WEBHOOK_BREAKER_*): opens at this failure percentage over at least `volume` calls, half-opens after `resetMs`. */
  breaker: { errorPercentage: number; volume: number; resetMs: number; windowMs: number };
  /** Keep-alive connections per endpoint origin. */
  connectionsPerOrigin: number;
}

export const AUTH_WEBHOOKS_OPTIONS = Symbol('AUTH_WEBHOOKS_OPTIONS');

export function authWebhooksOptionsFrom(config: SignetConfig): AuthWebhooksOptions {
  const w = config.authWebhooks;
  // The edge gives up on a CONNECT at connectTimeoutMs: the webhook must have answered (or failed) before.
  const edgeBudget = Math.max(100, config.edge.limits.connectTimeoutMs - 500);
  return {
    allowHttp: w.allowHttp,
    allowPrivateAddresses: w.allowPrivateAddresses,
    connectTimeoutMs: Math.min(w.connectTimeoutMs, edgeBudget),
    timeoutMs: Math.min(w.timeoutMs, edgeBudget),
    maxResponseBytes: w.maxResponseBytes,
    maxCacheSeconds: w.maxCacheSeconds,
    denyCacheSeconds: w.denyCacheSeconds,
    breaker: w.breaker,
    connectionsPerOrigin: 16,
  };
}
