import type { EdgeLimits } from '@signet/contracts';

export type { EdgeLimits };

export const DEFAULT_LIMITS: Readonly<EdgeLimits> = Object.freeze({
  maxPacketSize: 1024 * 1024,
  connectTimeoutMs: 10_000,
  maxKeepAliveSeconds: 65535,
  minKeepAliveSeconds: 0,
  maxInflight: 64,
  maxQueuedMessages: 1000,
  maxSessionExpirySeconds: 24 * 3600,
  maxClientIdLength: 256,
  maxUsernameLength: 256,
  maxPasswordLength: 8192,
  maxTopicLength: 1024,
  maxTopicLevels: 64,
  maxConnectionsPerIp: 1000,
  connectRatePerIp: 100,
  connectBurstPerIp: 1000,
  connectRatePerIdentity: 20,
  connectBurstPerIdentity: 200,
  maxSubscriptionsPerSession: 1000,
  maxTopicAliases: 10,
  maxRetainedPerOrg: 100_000,
  maxWriteBufferBytes: 4 * 1024 * 1024,
  slowConsumerGraceMs: 10_000,
  slowConsumerMaxBytes: 16 * 1024 * 1024,
  maxPendingAuthBytes: 256 * 1024,
  sweepIntervalMs: 250,
  revokeMemoryMs: 60_000,
  closeGraceMs: 5_000,
});

export function resolveLimits(partial: Partial<EdgeLimits> | undefined): EdgeLimits {
  const limits: EdgeLimits = { ...DEFAULT_LIMITS, ...(partial ?? {}) };
  // The variable byte integer of the fixed header cannot describe more than 256 MiB (§2.2.3).
  limits.maxPacketSize = Math.min(Math.max(limits.maxPacketSize, 64), 268_435_455 + 5);
  limits.maxInflight = Math.min(Math.max(limits.maxInflight, 1), 65535);
  limits.maxKeepAliveSeconds = Math.min(Math.max(limits.maxKeepAliveSeconds, 1), 65535);
  limits.minKeepAliveSeconds = Math.min(Math.max(limits.minKeepAliveSeconds, 0), limits.maxKeepAliveSeconds);
  limits.sweepIntervalMs = Math.max(limits.sweepIntervalMs, 10);
  // A topic is at most 65,535 bytes on the wire (§1.5.4); one level is the least a topic has.
  limits.maxTopicLength = Math.min(Math.max(limits.maxTopicLength, 1), 65535);
  limits.maxTopicLevels = Math.max(limits.maxTopicLevels, 1);
  limits.maxConnectionsPerIp = Math.max(limits.maxConnectionsPerIp, 1);
  // Topic Alias Maximum is a two byte integer (§3.2.2.3.8).
  limits.maxTopicAliases = Math.min(Math.max(limits.maxTopicAliases, 0), 65535);
  // A bucket holds at least one CONNECT; a rate of 0 turns the bucket off.
  limits.connectRatePerIp = Math.max(limits.connectRatePerIp, 0);
  limits.connectBurstPerIp = Math.max(limits.connectBurstPerIp, 1);
  limits.connectRatePerIdentity = Math.max(limits.connectRatePerIdentity, 0);
  limits.connectBurstPerIdentity = Math.max(limits.connectBurstPerIdentity, 1);
  limits.slowConsumerGraceMs = Math.max(limits.slowConsumerGraceMs, 0);
  limits.slowConsumerMaxBytes = Math.max(limits.slowConsumerMaxBytes, limits.maxWriteBufferBytes);
  return limits;
}

/**
 * A topic name or filter beyond the edge's limits (maxTopicLength, maxTopicLevels). No allocation:
 * length first, then `/` counted only when the topic could have more levels than allowed.
 */
export function topicOverLimits(topic: string, limits: EdgeLimits): boolean {
  const length = topic.length;
  if (length > limits.maxTopicLength) return true;
  const maxLevels = limits.maxTopicLevels;
  if (length < maxLevels) return false;
  let levels = 1;
  for (let i = 0; i < length; i++) {
    if (topic.charCodeAt(i) === 0x2f && ++levels > maxLevels) return true;
  }
  return false;
}
