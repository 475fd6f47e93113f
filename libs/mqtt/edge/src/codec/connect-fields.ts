import { afterFixedHeader, afterProperties, fieldEnd } from './frame-reader';

/**
 * Where each field of a CONNECT lies in its frame: the one walk over the CONNECT's bytes and the one
 * description of its layout (3.1.1 §3.1.2–3.1.3, 5.0 §3.1.2–3.1.3). It reads the Protocol Name and Level
 * first, then the fields in the layout of that level; the decoder (connect-decoder.ts) reads these offsets.
 *
 * Offsets are into the frame. A string or binary field is [field, fieldEnd): its bytes, after their
 * two-byte length; both are -1 when the Connect Flags do not announce the field. A 5.0 property block is
 * the offset of its Variable Byte Integer length; -1 in 3.1/3.1.1 or when there is no will.
 */
export interface ConnectFields {
  /** Protocol Name bytes. The Protocol Level is at protocolNameEnd, the Connect Flags at +1, Keep Alive at +2 and +3. */
  readonly protocolName: number;
  readonly protocolNameEnd: number;
  /**
   * The Protocol Level (§3.1.2.2) without bit 7 (the bridge flag of some brokers, not part of the level);
   * -1 when the Protocol Name is not MQTT or MQIsdp or the frame ends before the level.
   */
  readonly level: number;
  /** The Connect Flags byte (§3.1.2.3): 0x80 user name, 0x40 password, 0x20 will retain, 0x18 will QoS, 0x04 will, 0x02 clean, 0x01 reserved. */
  readonly flags: number;
  readonly properties: number;
  readonly clientId: number;
  readonly clientIdEnd: number;
  readonly willProperties: number;
  readonly willTopic: number;
  readonly willTopicEnd: number;
  readonly willPayload: number;
  readonly willPayloadEnd: number;
  readonly username: number;
  readonly usernameEnd: number;
  readonly password: number;
  readonly passwordEnd: number;
  /**
   * Offset after the last field: the frame's length, unless bytes follow the fields. -1 when the layout does
   * not fit the frame (a field runs past it) or the level is not 3, 4 or 5: the other offsets are then stale.
   */
  readonly end: number;
}

/** The one result object, refilled by each call: a CONNECT walk allocates nothing (it runs once per connection). */
class Fields implements ConnectFields {
  protocolName = 0;
  protocolNameEnd = 0;
  level = -1;
  flags = 0;
  properties = -1;
  clientId = -1;
  clientIdEnd = -1;
  willProperties = -1;
  willTopic = -1;
  willTopicEnd = -1;
  willPayload = -1;
  willPayloadEnd = -1;
  username = -1;
  usernameEnd = -1;
  password = -1;
  passwordEnd = -1;
  end = 0;
}

const fields = new Fields();

/**
 * The fields of the CONNECT in `frame`, as its Protocol Level and Connect Flags lay them out (5.0 with its
 * Properties and Will Properties), or null when the header is not an MQTT one of level 3, 4 or 5 or a field
 * runs past the frame. Only lengths are checked: not the flag rules, nor whether bytes follow the fields
 * ({@link ConnectFields.end}). The result is shared and valid until the next call: read it before calling again.
 */
export function connectFields(frame: Buffer): ConnectFields | null {
  const f = walkConnect(frame);
  return f.end < 0 ? null : f;
}

/**
 * The walk itself: always the shared result, with {@link ConnectFields.level} -1 when the header is not
 * MQTT's and {@link ConnectFields.end} -1 when the fields were not found (so that an unsupported level can
 * still be answered [MQTT-3.1.2-2]).
 */
export function walkConnect(frame: Buffer): ConnectFields {
  const f = fields;
  const len = frame.length;
  f.level = f.end = -1;
  // Protocol Name 'MQTT' (4 bytes) or 'MQIsdp' (6), compared as bytes.
  const start = afterFixedHeader(frame);
  let at = fieldEnd(frame, start);
  if (at < 0 || at >= len || !mqttName(frame, start + 2, at)) return f;
  f.protocolName = start + 2;
  f.protocolNameEnd = at;
  const level = (f.level = frame[at] & 0x7f);
  if ((level !== 3 && level !== 4 && level !== 5) || at + 4 > len) return f;
  const v5 = level === 5;
  // Protocol Level, Connect Flags and Keep Alive (4 bytes).
  const flags = (f.flags = frame[at + 1]);
  at += 4;
  f.properties = -1;
  if (v5) {
    f.properties = at;
    at = afterProperties(frame, at);
    if (at < 0) return f;
  }
  let end = fieldEnd(frame, at);
  if (end < 0) return f;
  f.clientId = at + 2;
  f.clientIdEnd = at = end;
  f.willProperties = f.willTopic = f.willTopicEnd = f.willPayload = f.willPayloadEnd = -1;
  if (flags & 0x04) {
    if (v5) {
      f.willProperties = at;
      at = afterProperties(frame, at);
      if (at < 0) return f;
    }
    end = fieldEnd(frame, at);
    if (end < 0) return f;
    f.willTopic = at + 2;
    f.willTopicEnd = at = end;
    end = fieldEnd(frame, at);
    if (end < 0) return f;
    f.willPayload = at + 2;
    f.willPayloadEnd = at = end;
  }
  f.username = f.usernameEnd = -1;
  if (flags & 0x80) {
    end = fieldEnd(frame, at);
    if (end < 0) return f;
    f.username = at + 2;
    f.usernameEnd = at = end;
  }
  f.password = f.passwordEnd = -1;
  if (flags & 0x40) {
    end = fieldEnd(frame, at);
    if (end < 0) return f;
    f.password = at + 2;
    f.passwordEnd = at = end;
  }
  f.end = at;
  return f;
}

/** The bytes [start, end) are 'MQTT' or 'MQIsdp' (§3.1.2.1; MQIsdp is 3.1's name). */
function mqttName(frame: Buffer, start: number, end: number): boolean {
  const n = end - start;
  if (n === 4) return frame[start] === 0x4d && frame[start + 1] === 0x51 && frame[start + 2] === 0x54 && frame[start + 3] === 0x54;
  return n === 6 && frame.toString('latin1', start, end) === 'MQIsdp';
}
