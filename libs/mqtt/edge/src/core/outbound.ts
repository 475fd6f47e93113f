import type { IPublishPacket, QoS } from 'mqtt-packet';
import { encode, encodePublishQos0, varIntSize, type ProtocolVersion } from '../codec/codec';
import type { Message } from './message';

/**
 * Encoding cache for QoS 0 PUBLISH: one routed message is encoded once per protocol version however many
 * subscribers get it. Keyed by message identity (messages are immutable). One per broker.
 */
export class Qos0Frames {
  private message: Message | null = null;
  private frame4: Buffer | null = null;
  private frame5: Buffer | null = null;

  frame(message: Message, version: ProtocolVersion): Buffer | null {
    if (this.message !== message) {
      this.message = message;
      this.frame4 = null;
      this.frame5 = null;
    }
    // Hand-encoded when there are no 5.0 properties (the usual case): see encodePublishQos0.
    if (version === 5) {
      if (this.frame5 === null) {
        this.frame5 =
          message.properties === undefined ? encodePublishQos0(message.topic, message.payload, 5) : encodePublish(message, 0, false, 0, false, 5, 0, null);
      }
      return this.frame5;
    }
    if (this.frame4 === null) this.frame4 = encodePublishQos0(message.topic, message.payload, version);
    return this.frame4;
  }
}

/** 5.0 DISCONNECT frames by reason code, built once: revoke() may send thousands at a time. */
const disconnectFrames = new Map<number, Buffer>();

export function disconnectFrame(reasonCode: number): Buffer {
  let frame = disconnectFrames.get(reasonCode);
  if (frame === undefined) {
    frame = encode({ cmd: 'disconnect', reasonCode }, 5)!;
    disconnectFrames.set(reasonCode, frame);
  }
  return frame;
}

/**
 * Size of a 5.0 SUBACK or UNSUBACK without properties for `n` filters: fixed header, packet identifier,
 * Property Length 0, one reason code per filter.
 */
export function ackSize(n: number): number {
  const remaining = 3 + n;
  return 1 + varIntSize(remaining) + remaining;
}

export function encodePublish(
  message: Message,
  qos: QoS,
  retain: boolean,
  messageId: number,
  dup: boolean,
  version: ProtocolVersion,
  now: number,
  ids: readonly number[] | null,
  alias = 0,
  aliasKnown = false,
): Buffer | null {
  let properties: IPublishPacket['properties'] = undefined;
  if (version === 5) {
    properties = message.properties;
    if (message.expiresAt !== Infinity) {
      // The receiver gets the remaining lifetime [MQTT-3.3.2-6].
      properties = { ...properties, messageExpiryInterval: Math.max(1, Math.ceil((message.expiresAt - now) / 1000)) };
    }
    if (ids !== null) {
      // The identifiers of every subscription this copy is for [MQTT-3.3.4-3], [MQTT-3.3.4-4].
      properties = { ...properties, subscriptionIdentifier: ids.length === 1 ? ids[0] : (ids as number[]) };
    }
    // Server→client Topic Alias (§3.3.2.3.4): sent with the topic once to set it, then with an empty topic.
    if (alias !== 0) properties = { ...properties, topicAlias: alias };
  }
  const packet: IPublishPacket = {
    cmd: 'publish',
    topic: aliasKnown ? '' : message.topic,
    payload: message.payload,
    qos,
    retain,
    dup,
    messageId: qos > 0 ? messageId : undefined,
    properties,
  };
  return encode(packet, version);
}

/**
 * A PUBLISH for a 5.0 client that accepts Topic Aliases: encoded per subscriber (the aliases are the
 * connection's, `aliases` topic → alias, at most `max`). A topic with an alias goes with an empty Topic Name;
 * a new topic takes the next alias while there are some left, recorded only when the frame fits
 * `maxPacket` (one too large is encoded again without the alias, 3 bytes shorter) so the client never gets
 * an alias it was not told about. Null when it cannot be sent.
 */
export function encodeAliased(
  aliases: Map<string, number>,
  max: number,
  maxPacket: number,
  message: Message,
  qos: QoS,
  retain: boolean,
  messageId: number,
  dup: boolean,
  ids: readonly number[] | null,
  now: number,
): Buffer | null {
  const known = aliases.get(message.topic);
  let frame: Buffer | null;
  if (known !== undefined) {
    frame = encodePublish(message, qos, retain, messageId, dup, 5, now, ids, known, true);
  } else {
    frame = null;
    if (aliases.size < max) {
      const alias = aliases.size + 1;
      frame = encodePublish(message, qos, retain, messageId, dup, 5, now, ids, alias, false);
      if (frame !== null && frame.length <= maxPacket) aliases.set(message.topic, alias);
      else frame = null;
    }
    frame ??= encodePublish(message, qos, retain, messageId, dup, 5, now, ids);
  }
  return frame === null || frame.length > maxPacket ? null : frame;
}
