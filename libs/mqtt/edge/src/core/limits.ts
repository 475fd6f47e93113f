import { DEFAULT_EDGE_LIMITS, type EdgeLimits } from '@signet/contracts';

export type { EdgeLimits };

export const DEFAULT_LIMITS: Readonly<EdgeLimits> = DEFAULT_EDGE_LIMITS;

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
  // A CONNECT is never allowed more than any other packet; the smallest holds a header and a short client id.
  limits.maxConnectPacketSize = Math.min(Math.max(limits.maxConnectPacketSize, 64), limits.maxPacketSize);
  limits.maxUnauthenticatedBytesPerIp = Math.max(limits.maxUnauthenticatedBytesPerIp, limits.maxConnectPacketSize);
  limits.maxUnauthenticatedBytes = Math.max(limits.maxUnauthenticatedBytes, limits.maxUnauthenticatedBytesPerIp);
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
