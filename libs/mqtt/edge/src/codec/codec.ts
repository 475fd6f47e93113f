import * as mqttPacket from 'mqtt-packet';
import type { IPublishPacket, Packet, QoS } from 'mqtt-packet';
import { afterFixedHeader, fieldEnd } from './frame-reader';
import { propertiesAreWellFormed, suspectProperties } from './utf8';

export type ProtocolVersion = 3 | 4 | 5;

/**
 * A mqtt-packet parser shared by every connection of one protocol version, for the packets after CONNECT
 * (CONNECT itself is decoded by hand, connect-decoder.ts).
 * FrameReader hands it only complete packets, so no parser state ever spans
 * two calls, and one parser per version replaces one (EventEmitter + buffer
 * list) per connection. Parsing is synchronous: the 'packet' event fires
 * inside parse().
 */
class SharedDecoder {
  private parser: mqttPacket.Parser;
  private packet: Packet | null = null;
  private failed = false;

  constructor(private readonly version: 4 | 5) {
    this.parser = this.create();
  }

  private create(): mqttPacket.Parser {
    const parser = mqttPacket.parser({ protocolVersion: this.version });
    parser.on('packet', (packet: Packet) => {
      this.packet = packet;
    });
    parser.on('error', () => {
      this.failed = true;
    });
    return parser;
  }

  /** The packet, or null when the bytes are malformed. Never throws. */
  decode(frame: Buffer): Packet | null {
    this.packet = null;
    this.failed = false;
    let left: number;
    try {
      left = this.parser.parse(frame);
    } catch {
      // A throw leaves the parser in an unknown state: start a fresh one.
      this.parser = this.create();
      return null;
    }
    const packet = this.packet;
    this.packet = null;
    if (this.failed || packet === null || left !== 0) {
      // After an error mqtt-packet@9 resets its buffer but not its read offset (_pos), which
      // corrupts the next parse; and leftover bytes must not leak into the next packet.
      // Errors are rare (the connection is closed): start a fresh parser.
      this.parser = this.create();
      return null;
    }
    return packet;
  }
}

const v4Decoder = new SharedDecoder(4);
const v5Decoder = new SharedDecoder(5);

/**
 * Ill-formed UTF-8 or U+0000 in a string of a 5.0 property (User Property names and values, Content Type,
 * Response Topic, Authentication Method, Reason String…) makes the packet malformed [MQTT-1.5.4-1/2],
 * [MQTT-1.5.7-1]: null, as for any malformed packet. Looked at only when the packet has properties; the
 * frame is re-read only when a decoded string is suspect (utf8.ts).
 */
function badProperties(frame: Buffer, properties: object): boolean {
  return suspectProperties(properties) && !propertiesAreWellFormed(frame);
}

/** Decodes a packet after CONNECT. Never given a CONNECT (that is refused by type first). */
export function decodePacket(frame: Buffer, version: ProtocolVersion): Packet | null {
  if (frame[0] >> 4 === 3) {
    const publish = decodePublishFast(frame, version);
    if (publish !== null) return publish;
  }
  if (version !== 5) return v4Decoder.decode(frame);
  const packet = v5Decoder.decode(frame);
  const properties = (packet as { properties?: object } | null)?.properties;
  if (properties !== undefined && badProperties(frame, properties)) return null;
  return packet;
}

/**
 * A well-formed PUBLISH without 5.0 properties, decoded by hand: PUBLISH is the
 * most frequent packet, and mqtt-packet's parser allocates several kilobytes
 * per packet (buffer list, debug() argument arrays, state objects), which made
 * young-generation GC pauses the main source of the edge's p99 latency.
 * Anything else (5.0 properties, a short or odd frame, QoS 3) returns null and
 * goes through mqtt-packet, so errors and edge cases behave exactly as before.
 * The result has the shape mqtt-packet gives (payload a view into the frame).
 */
export function decodePublishFast(frame: Buffer, version: ProtocolVersion): IPublishPacket | null {
  const first = frame[0];
  const qos = (first >> 1) & 0x03;
  if (qos === 3) return null;
  const len = frame.length;
  // Skip the Remaining Length (FrameReader checked it and that the frame is exactly one packet).
  const i = afterFixedHeader(frame);
  const topicEnd = fieldEnd(frame, i);
  if (topicEnd < 0) return null;
  let at = qos > 0 ? topicEnd + 2 : topicEnd;
  if (at > len) return null;
  if (version === 5) {
    // Only Property Length 0 takes the fast path.
    if (at >= len || frame[at] !== 0) return null;
    at++;
  }
  const packet: IPublishPacket = {
    cmd: 'publish',
    retain: (first & 0x01) !== 0,
    qos: qos as QoS,
    dup: (first & 0x08) !== 0,
    topic: frame.toString('utf8', i + 2, topicEnd),
    payload: frame.subarray(at),
  };
  if (qos > 0) packet.messageId = (frame[topicEnd] << 8) | frame[topicEnd + 1];
  return packet;
}

/** Bytes of the Variable Byte Integer encoding `n` (≤ 268,435,455), e.g. a Remaining Length (§1.5.5 / §2.2.3). */
export function varIntSize(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}

/**
 * A QoS 0 PUBLISH without properties (retain 0, dup 0), encoded by hand for
 * the same reason as decodePublishFast: mqtt-packet's generate() builds a
 * stream-like object and several buffers per call. 5.0 adds Property Length 0.
 * `payload` may be any length the Remaining Length can carry (≤ 268,435,455).
 */
export function encodePublishQos0(topic: string, payload: Buffer, version: ProtocolVersion): Buffer | null {
  const topicLength = Buffer.byteLength(topic);
  if (topicLength > 0xffff) return null;
  const remaining = 2 + topicLength + (version === 5 ? 1 : 0) + payload.length;
  if (remaining > 268_435_455) return null;
  const frame = Buffer.allocUnsafe(1 + varIntSize(remaining) + remaining);
  frame[0] = 0x30;
  let at = 1;
  let left = remaining;
  do {
    let b = left % 128;
    left = Math.floor(left / 128);
    if (left > 0) b |= 0x80;
    frame[at++] = b;
  } while (left > 0);
  frame[at++] = topicLength >> 8;
  frame[at++] = topicLength & 0xff;
  at += frame.write(topic, at, 'utf8');
  if (version === 5) frame[at++] = 0;
  payload.copy(frame, at);
  return frame;
}

/** mqtt-packet generate(); null if the packet cannot be encoded (never throws). */
export function encode(packet: Packet, version: ProtocolVersion): Buffer | null {
  try {
    return mqttPacket.generate(packet, { protocolVersion: version });
  } catch {
    return null;
  }
}

/**
 * PUBACK/PUBREC/PUBREL/PUBCOMP, encoded by hand: they are the most frequent
 * packets and 4 or 5 bytes long. PUBREL's fixed-header flags are 0b0010
 * [MQTT-3.6.1-1]. In 5.0 a Success reason without properties may be left out
 * (Remaining Length 2) (5.0 §3.4.2.1).
 */
export function encodeAck(type: 4 | 5 | 6 | 7, messageId: number, reasonCode: number, v5: boolean): Buffer {
  const withCode = v5 && reasonCode !== 0;
  const buf = Buffer.allocUnsafe(withCode ? 5 : 4);
  buf[0] = (type << 4) | (type === 6 ? 0x02 : 0);
  buf[1] = withCode ? 3 : 2;
  buf.writeUInt16BE(messageId, 2);
  if (withCode) buf[4] = reasonCode;
  return buf;
}

/**
 * The packet identifier of a 4-byte acknowledgement (3.1.1, or 5.0 with
 * Success and no properties), checking the fixed-header flags
 * [MQTT-2.2.2-2]. -1 when the frame needs the full decoder.
 */
export function shortAckId(frame: Buffer): number {
  if (frame.length !== 4 || frame[1] !== 2) return -1;
  const type = frame[0] >> 4;
  const flags = frame[0] & 0x0f;
  if (flags !== (type === 6 ? 0x02 : 0)) return -1;
  return frame.readUInt16BE(2);
}

export const PINGRESP = Buffer.from([0xd0, 0x00]);

/** 3.1.1 CONNACKs, by session-present flag and return code: 4 fixed bytes, built once. */
const connackV4Frames = new Map<number, Buffer>();

/** A 3.1.1 CONNACK (§3.2), without going through the generic encoder: one is sent per CONNECT. */
export function connackV4(returnCode: number, sessionPresent: boolean): Buffer {
  const key = (returnCode << 1) | (sessionPresent ? 1 : 0);
  let frame = connackV4Frames.get(key);
  if (frame === undefined) {
    frame = Buffer.from([0x20, 0x02, sessionPresent ? 1 : 0, returnCode]);
    connackV4Frames.set(key, frame);
  }
  return frame;
}
