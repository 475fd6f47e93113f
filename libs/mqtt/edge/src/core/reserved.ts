/**
 * The edge's own `$signet/` topics: never routed, never retained, not subject to permissions (handlers/auth.ts
 * serves them). `$`-topics are not matched by wildcards [MQTT-4.7.2-1], so no client subscription sees them.
 */

/** Everything under this prefix is the edge's own. */
export const RESERVED_PREFIX = '$signet/';
/** Reserved topic a client publishes a fresh token to. */
export const REFRESH_TOPIC = '$signet/auth/refresh';
/** Reserved topic the refresh result is published on, to the refreshing session only; every session may subscribe to it. */
export const RESULT_TOPIC = '$signet/auth/result';

/** A topic in the reserved namespace: one character test first, so ordinary topics pay nothing more. */
export function isReservedTopic(topic: string): boolean {
  return topic.charCodeAt(0) === 0x24 && topic.startsWith(RESERVED_PREFIX);
}
