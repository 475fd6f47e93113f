import * as mqttPacket from 'mqtt-packet';
import type { Packet } from 'mqtt-packet';
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
function badProperties(frame: Buffer, properties: object | undefined, willProperties?: object): boolean {
  return (suspectProperties(properties) || suspectProperties(willProperties)) && !propertiesAreWellFormed(frame);
}

export function decodeConnect(frame: Buffer): Packet | null {
  const packet = connectDecoder.decode(frame);
  if (packet !== null && packet.cmd === 'connect' && packet.protocolVersion === 5) {
    if ((packet.properties !== undefined || packet.will?.properties !== undefined) && badProperties(frame, packet.properties, packet.will?.properties)) {
      return null;
    }
  }
  return packet;
}

/** Decodes a packet after CONNECT. Never given a CONNECT (that is refused by type first). */
export function decodePacket(frame: Buffer, version: ProtocolVersion): Packet | null {
  if (version !== 5) return v4Decoder.decode(frame);
  const packet = v5Decoder.decode(frame);
  const properties = (packet as { properties?: object } | null)?.properties;
  if (properties !== undefined && badProperties(frame, properties)) return null;
  return packet;
}

/**
 * The protocol level byte of a CONNECT (§3.1.2.2), read before decoding so an
 * unsupported version can get its CONNACK [MQTT-3.1.2-2] instead of a plain
 * close. -1 when the protocol name is not MQTT/MQIsdp or the frame is short.
 */
export function peekProtocolLevel(frame: Buffer): number {
  let i = 1;
  while (i < 5 && i < frame.length && frame[i] & 0x80) i++;
  i++;
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
 * which would turn a present user name into an anonymous CONNECT. Read from the frame (already
 * decoded once, so its lengths are sound as far as the decoder went).
 */
export function connectFieldsFit(frame: Buffer): boolean {
  let i = 1;
  while (i < 5 && frame[i] & 0x80) i++;
  i++;
  i += 2 + frame.readUInt16BE(i); // protocol name
  const flags = frame[i + 1];
  if ((flags & 0x40) !== 0 && (flags & 0x80) === 0) return false;
  i += 4; // level, flags, keepalive
  const fields = 1 + ((flags & 0x04) !== 0 ? 2 : 0) + ((flags & 0x80) !== 0 ? 1 : 0) + ((flags & 0x40) !== 0 ? 1 : 0);
  for (let f = 0; f < fields; f++) {
    if (i + 2 > frame.length) return false;
    i += 2 + frame.readUInt16BE(i);
  }
  return i === frame.length;
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
