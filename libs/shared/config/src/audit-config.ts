import { type Env, readInt } from './env';

/** The audit log (`SIGNET_AUDIT_*`; docs/audit.md). */
export interface AuditConfig {
  /** Events older than this are deleted (SIGNET_AUDIT_RETENTION_DAYS). */
  retentionDays: number;
  /** How often the retention job runs; 0 = never (SIGNET_AUDIT_PRUNE_INTERVAL_MS). */
  pruneIntervalMs: number;
  /** Buffered events are written this often (SIGNET_AUDIT_FLUSH_MS). */
  flushMs: number;
  /** Events held in memory waiting to be written; beyond, new ones are dropped and counted (SIGNET_AUDIT_BUFFER). */
  bufferSize: number;
  /** CONNECT decisions are sampled per address and outcome over windows of this length (SIGNET_AUDIT_AUTH_WINDOW_MS). */
  authWindowMs: number;
  /** Decisions per address and outcome per window written one by one; the rest become one row with a count (SIGNET_AUDIT_AUTH_PER_ADDRESS). */
  authPerAddress: number;
}

export function loadAuditConfig(env: Env): AuditConfig {
  return {
    retentionDays: readInt(env, 'SIGNET_AUDIT_RETENTION_DAYS', 90, 1, 3650),
    pruneIntervalMs: readInt(env, 'SIGNET_AUDIT_PRUNE_INTERVAL_MS', 3_600_000, 0, 86_400_000),
    flushMs: readInt(env, 'SIGNET_AUDIT_FLUSH_MS', 1000, 10, 60_000),
    bufferSize: readInt(env, 'SIGNET_AUDIT_BUFFER', 20_000, 100, 1_000_000),
    authWindowMs: readInt(env, 'SIGNET_AUDIT_AUTH_WINDOW_MS', 60_000, 100, 3_600_000),
    authPerAddress: readInt(env, 'SIGNET_AUDIT_AUTH_PER_ADDRESS', 20, 1, 100_000),
  };
}
