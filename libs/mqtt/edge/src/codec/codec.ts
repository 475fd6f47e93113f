import * as mqttPacket from 'mqtt-packet';
import type { IConnectPacket, IPublishPacket, Packet, QoS } from 'mqtt-packet';
import { connectFields, type ConnectFields } from './connect-fields';
import { afterFixedHeader, fieldEnd } from './frame-reader';
import { propertiesAreWellFormed, suspectProperties } from './utf8';

export type ProtocolVersion = 3 | 4 | 5;

/**
 * A mqtt-packet parser shared by every connection of one protocol version.
 * FrameReader hands it only complete packets, so no parser state ever spans
 * two calls, and one parser per version replaces one (EventEmitter + buffer
 * list) per connection. Parsing is synchronous: the 'packet' event fires
 * inside parse().
 */
class SharedDecoder {
  private parser: mqttPacket.Parser;
  private packet: Packet | null = null;
  private failed = false;

  constructor(private readonly version: 0 | 4 | 5) {
    this.parser = this.create();
  }

  private create(): mqttPacket.Parser {
    const parser = mqttPacket.parser(this.version === 0 ? {} : { protocolVersion: this.version });
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

const connectDecoder = new SharedDecoder(0);
const v4Decoder = new SharedDecoder(4);
const v5Decoder = new SharedDecoder(5);

/**
 * Ill-formed UTF-8 or U+0000 in a string of a 5.0 property (User Property names and values, Content Type,
 * Response Topic, Authentication Method, Reason String…) makes the packet malformed [MQTT-1.5.4-1/2],
 * [MQTT-1.5.7-1]: null, as for any malformed packet. Looked at only when the packet has properties; the
 * frame is re-read only when a decoded string is suspect (utf8.ts).
 */
function badProperties(frame: Buffer, properties: object | undefined, willProperties?: object, connect?: ConnectFields | null): boolean {
  return (suspectProperties(properties) || suspectProperties(willProperties)) && !propertiesAreWellFormed(frame, connect);
}

/**
 * A CONNECT of protocol level `level`, with `f` its fields (connectFields in the layout of that level): the
 * fast path reads them, mqtt-packet decodes what it leaves, and the property re-check reads them again.
 */
export function decodeConnect(frame: Buffer, level: number, f: ConnectFields | null): Packet | null {
  if (level !== 5) {
    const fast = decodeConnectFast(frame, f);
    if (fast !== null) return fast;
  }
  const packet = connectDecoder.decode(frame);
  if (packet !== null && packet.cmd === 'connect' && packet.protocolVersion === 5) {
    if ((packet.properties !== undefined || packet.will?.properties !== undefined) && badProperties(frame, packet.properties, packet.will?.properties, f)) {
      return null;
    }
  }
  return packet;
}

/**
 * A 3.1/3.1.1 CONNECT without a will, decoded by hand (one per connection:
 * mqtt-packet's parser was ~7% of the edge's CPU in the connect benchmark).
 * It reads what mqtt-packet reads, in the same order, and gives the same
 * packet; anything else (5.0, a will, a flag or length mqtt-packet would
 * refuse, a short frame) returns null and goes through mqtt-packet, so errors
 * behave exactly as before. Bytes after the fields are ignored, as mqtt-packet
 * does (connectFieldsFit refuses them).
 */
export function decodeConnectFast(frame: Buffer, f: ConnectFields | null = connectFields(frame, false)): IConnectPacket | null {
  // Fixed-header flags of CONNECT are reserved 0 [MQTT-2.2.2-1].
  if (frame[0] !== 0x10) return null;
  // `f` is read as a 3.1.1 layout; a 5.0 CONNECT, read wrongly so, is refused by its level below.
  if (f === null) return null;
  // Protocol name: 'MQTT' (4 bytes) or 'MQIsdp' (6 bytes).
  const nameLength = f.protocolNameEnd - f.protocolName;
  if (nameLength !== 4 && nameLength !== 6) return null;
  const protocolId = frame.toString('latin1', f.protocolName, f.protocolNameEnd);
  if (protocolId !== 'MQTT' && protocolId !== 'MQIsdp') return null;
  const at = f.protocolNameEnd;
  const protocolVersion = frame[at];
  if (protocolVersion !== 3 && protocolVersion !== 4) return null;
  const flags = f.flags;
  // Reserved bit [MQTT-3.1.2-3] or any will bit (will flag, QoS, retain): mqtt-packet's path.
  if ((flags & 0x3d) !== 0) return null;
  const packet: IConnectPacket = {
    cmd: 'connect',
    protocolId,
    protocolVersion,
    clean: (flags & 0x02) !== 0,
    keepalive: (frame[at + 2] << 8) | frame[at + 3],
    clientId: frame.toString('utf8', f.clientId, f.clientIdEnd),
  };
  if (f.username >= 0) packet.username = frame.toString('utf8', f.username, f.usernameEnd);
  // A view, as mqtt-packet gives (nothing keeps the password beyond authentication).
  if (f.password >= 0) packet.password = frame.subarray(f.password, f.passwordEnd);
  return packet;
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

/**
 * The protocol level byte of a CONNECT (§3.1.2.2), read before decoding so an
 * unsupported version can get its CONNACK [MQTT-3.1.2-2] instead of a plain
 * close, and so the fields are walked once in the layout of that level. Reads
 * the protocol name and level only. -1 when the name is not MQTT/MQIsdp or the
 * frame is short.
 */
export function peekProtocolLevel(frame: Buffer): number {
  const i = afterFixedHeader(frame);
  if (frame.length < i + 2) return -1;
  const nameLength = frame.readUInt16BE(i);
  const levelAt = i + 2 + nameLength;
  if (levelAt >= frame.length) return -1;
  const name = frame.toString('latin1', i + 2, levelAt);
  if (name !== 'MQTT' && name !== 'MQIsdp') return -1;
  return frame[levelAt] & 0x7f; // bit 7: bridge flag of some brokers, not part of the level
}

/**
 * A 3.1/3.1.1 CONNECT whose payload is exactly the fields its Connect Flags announce, and no password
 * without a user name [MQTT-3.1.2-18…22]: mqtt-packet silently ignores bytes left after the fields,
 * which would turn a present user name into an anonymous CONNECT.
 */
export function connectFieldsFit(frame: Buffer, f: ConnectFields | null = connectFields(frame, false)): boolean {
  return f !== null && f.end === frame.length && (f.password < 0 || f.username >= 0);
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
