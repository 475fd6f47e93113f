import type { SignetConfig } from '@signet/config';

/** Tunables of the audit log; the composition builds them from its config with {@link auditOptionsFrom}. */
export interface AuditOptions {
  /** SIGNET_AUDIT_RETENTION_DAYS: events older than this are deleted. */
  retentionDays: number;
  /** SIGNET_AUDIT_PRUNE_INTERVAL_MS: how often (0: never). */
  pruneIntervalMs: number;
  /** SIGNET_AUDIT_FLUSH_MS: how often buffered events are written. */
  flushMs: number;
  /** SIGNET_AUDIT_BUFFER: events held in memory at most. */
  bufferSize: number;
  /** Redis, where standalone edges send their CONNECT decisions (REDIS_URL, SIGNET_REDIS_PREFIX); absent: none to read. */
  redis?: { url: string; keyPrefix: string };
}

export const AUDIT_OPTIONS = Symbol('AUDIT_OPTIONS');

export function auditOptionsFrom(config: SignetConfig): AuditOptions {
  const { retentionDays, pruneIntervalMs, flushMs, bufferSize } = config.audit;
  return {
    retentionDays,
    pruneIntervalMs,
    flushMs,
    bufferSize,
    ...(config.redisUrl ? { redis: { url: config.redisUrl, keyPrefix: config.redisKeyPrefix } } : {}),
  };
}
