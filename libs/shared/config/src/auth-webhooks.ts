import { type Env, readBool, readInt, readOptionalString } from './env';

/** Outbound calls to org auth webhooks (`SIGNET_WEBHOOK_*`; docs/auth-webhooks.md). */
export interface AuthWebhooksConfig {
  allowHttp: boolean;
  allowPrivateAddresses: boolean;
  connectTimeoutMs: number;
  timeoutMs: number;
  maxResponseBytes: number;
  maxCacheSeconds: number;
  denyCacheSeconds: number;
  breaker: { errorPercentage: number; volume: number; resetMs: number; windowMs: number };
  /** Where a standalone edge asks the auth-webhook service (gRPC). */
  serviceGrpc: string | undefined;
}

export function loadAuthWebhooksConfig(env: Env): AuthWebhooksConfig {
  return {
    allowHttp: readBool(env, 'SIGNET_WEBHOOK_ALLOW_HTTP', false),
    allowPrivateAddresses: readBool(env, 'SIGNET_WEBHOOK_ALLOW_PRIVATE', false),
    connectTimeoutMs: readInt(env, 'SIGNET_WEBHOOK_CONNECT_TIMEOUT_MS', 1000, 10, 60000),
    timeoutMs: readInt(env, 'SIGNET_WEBHOOK_TIMEOUT_MS', 3000, 10, 60000),
    maxResponseBytes: readInt(env, 'SIGNET_WEBHOOK_MAX_RESPONSE_BYTES', 16384, 256, 1048576),
    maxCacheSeconds: readInt(env, 'SIGNET_WEBHOOK_MAX_CACHE_SECONDS', 300, 0, 86400),
    denyCacheSeconds: readInt(env, 'SIGNET_WEBHOOK_DENY_CACHE_SECONDS', 5, 0, 3600),
    breaker: {
      errorPercentage: readInt(env, 'SIGNET_WEBHOOK_BREAKER_ERROR_PERCENT', 50, 1, 100),
      volume: readInt(env, 'SIGNET_WEBHOOK_BREAKER_VOLUME', 5, 1, 100000),
      resetMs: readInt(env, 'SIGNET_WEBHOOK_BREAKER_RESET_MS', 10000, 10, 3600000),
      windowMs: readInt(env, 'SIGNET_WEBHOOK_BREAKER_WINDOW_MS', 10000, 100, 3600000),
    },
    serviceGrpc: readOptionalString(env, 'SIGNET_AUTH_WEBHOOKS_GRPC'),
  };
}

/** The edge's authenticator chain (`SIGNET_MQTT_AUTH_*`). */
export interface AuthChainConfig {
  /** Failed CONNECTs (bad credentials, any kind) per address per window before it is throttled; 0: off. */
  failuresPerIp: number;
  failureWindowMs: number;
}

export function loadAuthChainConfig(env: Env): AuthChainConfig {
  return {
    failuresPerIp: readInt(env, 'SIGNET_MQTT_AUTH_FAILURES_PER_IP', 20, 0, 1000000),
    failureWindowMs: readInt(env, 'SIGNET_MQTT_AUTH_FAILURE_WINDOW_MS', 60000, 1000, 86400000),
  };
}
