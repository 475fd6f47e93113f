import type { IPublishPacket, QoS } from 'mqtt-packet';

/** 5.0 PUBLISH properties forwarded from publisher to subscribers [MQTT-3.3.2-4 … -20]. */
export type ForwardedProperties = Omit<
  NonNullable<IPublishPacket['properties']>,
  'topicAlias' | 'subscriptionIdentifier' | 'messageExpiryInterval'
>;

/**
 * An application message as routed, retained and queued. Immutable once made
 * and shared by every subscriber, queue and the retained store.
 */
export interface Message {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: QoS;
  /** The RETAIN flag as published. */
  readonly retain: boolean;
  readonly properties: ForwardedProperties | undefined;
  /** From 5.0 Message Expiry Interval; Infinity when none. */
  readonly expiresAt: number;
}

/** Subscription options (3.1.1 uses only qos; 5.0 §3.8.3.1). */
export interface SubscriptionOptions {
  qos: QoS;
  /** No Local: not delivered to the publishing session. */
  nl: boolean;
  /** Retain As Published. */
  rap: boolean;
  /** Retain Handling: 0 send retained on subscribe, 1 only on a new subscription, 2 never. */
  rh: number;
  /**
   * 5.0 Subscription Identifiers sent with the messages this subscription matches [MQTT-3.3.4-3];
   * null: none. Built once per SUBSCRIBE so delivery allocates no array.
   */
  ids: readonly number[] | null;
}

/** Prefix of a 5.0 Shared Subscription's filter (§4.8.2). */
export const SHARE_PREFIX = '$share/';

/**
 * The ShareName of a `$share/<ShareName>/<filter>` subscription, or null when it is not a valid one:
 * at least one character, no `/`, `+` or `#`, then `/` and a non-empty filter [MQTT-4.8.2-1], [MQTT-4.8.2-2].
 */
export function shareName(filter: string): string | null {
  const end = filter.indexOf('/', SHARE_PREFIX.length);
  if (end <= SHARE_PREFIX.length || end === filter.length - 1) return null;
  for (let i = SHARE_PREFIX.length; i < end; i++) {
    const c = filter.charCodeAt(i);
    if (c === 0x2b /* + */ || c === 0x23 /* # */) return null;
  }
  return filter.slice(SHARE_PREFIX.length, end);
}

/** The filter messages are matched against: the part after `$share/<ShareName>/` of a shared subscription. */
export function innerFilter(filter: string): string {
  if (!filter.startsWith(SHARE_PREFIX)) return filter;
  return filter.slice(filter.indexOf('/', SHARE_PREFIX.length) + 1);
}

/**
 * A payload decoded from a socket chunk is a view that keeps the whole chunk
 * (up to 64 KiB) alive. Messages that outlive the current tick (retained,
 * queued, in flight) get their own copy when the view is much smaller than
 * what it pins.
 */
export function ownPayload(payload: Buffer): Buffer {
  return payload.buffer.byteLength > payload.length + 1024 ? Buffer.from(payload) : payload;
}

export function forwardedProperties(props: IPublishPacket['properties']): ForwardedProperties | undefined {
  if (!props) return undefined;
  // Topic Alias is per connection (§3.3.2.3.4); Subscription Identifier is per subscriber
  // (§3.3.4); Message Expiry Interval is re-computed on each send [MQTT-3.3.2-6].
  const { topicAlias: _a, subscriptionIdentifier: _s, messageExpiryInterval: _e, ...rest } = props;
  return Object.keys(rest).length > 0 ? rest : undefined;
}
