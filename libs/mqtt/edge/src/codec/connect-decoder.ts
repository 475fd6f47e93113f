import type { IConnectPacket, QoS, UserProperties } from 'mqtt-packet';
import { walkConnect } from './connect-fields';
import { afterProperties } from './frame-reader';
import { firstProperty, propertyEnd, propertyKind } from './properties';
import { suspectString, wellFormed } from './utf8';

export type ConnectProperties = NonNullable<IConnectPacket['properties']>;
export type WillProperties = NonNullable<NonNullable<IConnectPacket['will']>['properties']>;

/** 5.0 reason codes of a refused CONNECT the decoder decides (§3.2.2.2). */
export const CONNECT_MALFORMED = 0x81;
export const CONNECT_PROTOCOL_ERROR = 0x82;
export const CONNECT_UNSUPPORTED_VERSION = 0x84;

/**
 * Why a CONNECT cannot be decoded: `reasonCode` is the 5.0 CONNACK code (0x84 for a header that is not MQTT
 * 3.1, 3.1.1 or 5.0, `level` -1 when it is not MQTT at all). `maximumPacketSize` is the client's, when its
 * properties gave a valid one before the problem, so even a refusal respects it [MQTT-3.1.2-24].
 */
export class ConnectProblem {
  constructor(
    readonly level: number,
    readonly reasonCode: number,
    readonly detail: string,
    readonly maximumPacketSize?: number,
  ) {}
}

/**
 * Decodes every CONNECT (3.1, 3.1.1, 5.0; with or without will) from the offsets of the one walk
 * (connect-fields.ts), to the packet mqtt-packet would give (the fast-paths spec compares them), without
 * mqtt-packet: its parser allocated kilobytes per CONNECT. Stricter than mqtt-packet where the protocol asks
 * it: a 5.0 Malformed Packet is 0x81 and a Protocol Error 0x82; 3.1.1 has no code for either, so the handler
 * closes without CONNACK (§4.13) on the same refusal, which carries the level.
 */
export function decodeConnect(frame: Buffer): IConnectPacket | ConnectProblem {
  const f = walkConnect(frame);
  const level = f.level;
  if (level !== 3 && level !== 4 && level !== 5) return new ConnectProblem(level, CONNECT_UNSUPPORTED_VERSION, 'unsupported protocol');
  // Fixed-header flags of CONNECT are reserved 0 [MQTT-2.2.2-1].
  if ((frame[0] & 0x0f) !== 0) return malformed(level, 'reserved fixed-header flags');
  if (f.end < 0) return malformed(level, 'malformed CONNECT');
  const flags = f.flags;
  // Reserved flag [MQTT-3.1.2-3]; Will QoS and Will Retain only with a will (5.0 [MQTT-3.1.2-11/13], 3.1.1
  // [MQTT-3.1.2-13/15]); no Will QoS 3 (5.0 [MQTT-3.1.2-12], 3.1.1 [MQTT-3.1.2-14]).
  if ((flags & 0x01) !== 0) return malformed(level, 'reserved Connect Flag');
  if ((flags & 0x04) === 0 ? (flags & 0x38) !== 0 : (flags & 0x18) === 0x18) return malformed(level, 'will flags');
  const v5 = level === 5;
  // Bytes after the announced fields would turn a user name into an anonymous CONNECT; 3.1.1 allows no
  // password without a user name [MQTT-3.1.2-22] (5.0 does, §3.1.2.9).
  if (f.end !== frame.length || (!v5 && f.password >= 0 && f.username < 0)) return malformed(level, 'CONNECT fields do not match its flags');

  let properties: ConnectProperties | undefined;
  if (v5) {
    const decoded = connectProperties(frame, f.properties);
    if (decoded instanceof ConnectProblem) return decoded;
    properties = decoded;
  }
  const at = f.protocolNameEnd;
  const clientId = text(frame, f.clientId, f.clientIdEnd);
  if (clientId === null) return malformed(level, 'ill-formed UTF-8 string', properties);
  const packet: IConnectPacket = {
    cmd: 'connect',
    protocolId: f.protocolNameEnd - f.protocolName === 4 ? 'MQTT' : 'MQIsdp',
    protocolVersion: level as 3 | 4 | 5,
    clean: (flags & 0x02) !== 0,
    keepalive: (frame[at + 2] << 8) | frame[at + 3],
    clientId,
  };
  if (properties !== undefined) packet.properties = properties;
  if (f.willTopic >= 0) {
    let willProps: WillProperties | undefined;
    if (v5) {
      const decoded = willProperties(frame, f.willProperties);
      if (decoded instanceof ConnectProblem) return withMaximum(decoded, properties);
      willProps = decoded;
    }
    const topic = text(frame, f.willTopic, f.willTopicEnd);
    if (topic === null) return malformed(level, 'ill-formed UTF-8 string', properties);
    packet.will = {
      retain: (flags & 0x20) !== 0,
      qos: ((flags >> 3) & 0x03) as QoS,
      topic,
      // A view, as mqtt-packet gives: the handler copies what it keeps.
      payload: frame.subarray(f.willPayload, f.willPayloadEnd),
    };
    if (willProps !== undefined) packet.will.properties = willProps;
  }
  if (f.username >= 0) {
    const username = text(frame, f.username, f.usernameEnd);
    if (username === null) return malformed(level, 'ill-formed UTF-8 string', properties);
    packet.username = username;
  }
  // A view (nothing keeps the password beyond authentication).
  if (f.password >= 0) packet.password = frame.subarray(f.password, f.passwordEnd);
  return packet;
}

function malformed(level: number, detail: string, properties?: ConnectProperties): ConnectProblem {
  return new ConnectProblem(level, CONNECT_MALFORMED, detail, validMaximum(properties?.maximumPacketSize));
}

function protocolError(detail: string, properties: object): ConnectProblem {
  return new ConnectProblem(5, CONNECT_PROTOCOL_ERROR, detail, validMaximum((properties as ConnectProperties).maximumPacketSize));
}

function withMaximum(problem: ConnectProblem, properties: ConnectProperties | undefined): ConnectProblem {
  const maximum = validMaximum(properties?.maximumPacketSize);
  return maximum === undefined ? problem : new ConnectProblem(problem.level, problem.reasonCode, problem.detail, maximum);
}

const validMaximum = (n: number | undefined): number | undefined => (n !== undefined && n > 0 ? n : undefined);

/**
 * The UTF-8 Encoded String [start, end), or null when it is ill-formed or holds U+0000 [MQTT-1.5.3-1/2]
 * (5.0 [MQTT-1.5.4-1/2]). Decoding replaces ill-formed bytes by U+FFFD: only then are the bytes re-read.
 */
function text(frame: Buffer, start: number, end: number): string | null {
  const s = frame.toString('utf8', start, end);
  return suspectString(s) && !wellFormed(frame, start, end) ? null : s;
}

/** CONNECT property names by identifier (§3.1.2.11), as mqtt-packet names them. */
const CONNECT_PROPERTY: Record<number, keyof ConnectProperties> = {
  0x11: 'sessionExpiryInterval',
  0x21: 'receiveMaximum',
  0x27: 'maximumPacketSize',
  0x22: 'topicAliasMaximum',
  0x19: 'requestResponseInformation',
  0x17: 'requestProblemInformation',
  0x26: 'userProperties',
  0x15: 'authenticationMethod',
  0x16: 'authenticationData',
};

/** Will property names by identifier (§3.1.3.2). */
const WILL_PROPERTY: Record<number, keyof WillProperties> = {
  0x18: 'willDelayInterval',
  0x01: 'payloadFormatIndicator',
  0x02: 'messageExpiryInterval',
  0x03: 'contentType',
  0x08: 'responseTopic',
  0x09: 'correlationData',
  0x26: 'userProperties',
};

/** Request Response Information and Request Problem Information: a Byte of 0 or 1 (§3.1.2.11.6/7). */
const BOOLEAN_BYTE = new Set([0x17, 0x19]);

/**
 * The CONNECT properties at `at`, undefined when there are none. A property CONNECT does not carry is a
 * Malformed Packet (§2.2.2.2: an identifier not valid for the packet type); a property other than User
 * Property given twice, Request Response/Problem Information other than 0 or 1, Receive Maximum 0, Maximum
 * Packet Size 0 (§3.1.2.11.2–11.7, §3.1.2.11.9) and Authentication Data without Authentication Method
 * (§3.1.2.11.10) are Protocol Errors.
 */
function connectProperties(frame: Buffer, at: number): ConnectProperties | undefined | ConnectProblem {
  const props = readProperties(frame, at, CONNECT_PROPERTY) as ConnectProperties | undefined | ConnectProblem;
  if (props === undefined || props instanceof ConnectProblem) return props;
  if (props.receiveMaximum === 0) return protocolError('Receive Maximum 0', props);
  if (props.maximumPacketSize === 0) return protocolError('Maximum Packet Size 0', props);
  if (props.authenticationData !== undefined && props.authenticationMethod === undefined) {
    return protocolError('Authentication Data without Authentication Method', props);
  }
  return props;
}

/**
 * The Will Properties at `at` (§3.1.3.2): only those a will carries (else a Malformed Packet, §2.2.2.2), each
 * at most once but User Property (§3.1.3.2.2–3.1.3.2.7: a Protocol Error).
 */
function willProperties(frame: Buffer, at: number): WillProperties | undefined | ConnectProblem {
  return readProperties(frame, at, WILL_PROPERTY) as WillProperties | undefined | ConnectProblem;
}

/**
 * Reads the property block at `at` (connectFields found it inside the frame) with the names `allowed`, in
 * mqtt-packet's shape: Byte properties as booleans, User Properties as an object by name (a repeated name
 * becomes an array of its values, in order [MQTT-3.1.3-10]). Undefined when the block is empty.
 */
function readProperties(frame: Buffer, at: number, allowed: Record<number, string>): object | undefined | ConnectProblem {
  const end = afterProperties(frame, at);
  let i = firstProperty(frame, at);
  if (i >= end) return undefined;
  const props: Record<string, unknown> = {};
  // Identifiers seen, one bit each (all identifiers are below 64).
  let seenLow = 0;
  let seenHigh = 0;
  while (i < end) {
    const next = propertyEnd(frame, i, end);
    const id = frame[i];
    const name = allowed[id];
    if (next < 0 || name === undefined) return malformed(5, next < 0 ? 'malformed property' : `property 0x${id.toString(16)} not allowed here`, props as ConnectProperties);
    const v = i + 1;
    if (id === 0x26) {
      const nameEnd = v + 2 + frame.readUInt16BE(v);
      const key = text(frame, v + 2, nameEnd);
      const value = text(frame, nameEnd + 2, next);
      if (key === null || value === null) return malformed(5, 'ill-formed UTF-8 string', props as ConnectProperties);
      let pairs = props.userProperties as UserProperties | undefined;
      if (pairs === undefined) props.userProperties = pairs = Object.create(null) as UserProperties;
      const before = pairs[key];
      if (before === undefined) pairs[key] = value;
      else if (typeof before === 'string') pairs[key] = [before, value];
      else before.push(value);
    } else {
      const bit = 1 << (id & 31);
      if (id < 32 ? seenLow & bit : seenHigh & bit) return protocolError(`${name} more than once`, props);
      if (id < 32) seenLow |= bit;
      else seenHigh |= bit;
      const kind = propertyKind(id);
      if (kind === 1) {
        const byte = frame[v];
        if (BOOLEAN_BYTE.has(id) && byte > 1) return protocolError(`${name} ${byte}`, props);
        props[name] = byte !== 0;
      } else if (kind === 2) props[name] = frame.readUInt16BE(v);
      else if (kind === 4) props[name] = frame.readUInt32BE(v);
      else if (kind === 'd') props[name] = frame.subarray(v + 2, next);
      else {
        const s = text(frame, v + 2, next);
        if (s === null) return malformed(5, 'ill-formed UTF-8 string', props as ConnectProperties);
        props[name] = s;
      }
    }
    i = next;
  }
  return props;
}
