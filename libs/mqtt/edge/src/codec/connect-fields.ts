import { afterFixedHeader, afterProperties, fieldEnd } from './frame-reader';

/**
 * Where each field of a CONNECT lies in its frame: the one description of the CONNECT's byte layout
 * (3.1.1 §3.1.2–3.1.3, 5.0 §3.1.2–3.1.3), which the hand decoder and the fields check (codec.ts) and the
 * UTF-8 and property re-checks (utf8.ts) all read instead of each walking the frame.
 *
 * Offsets are into the frame. A string or binary field is [field, fieldEnd): its bytes, after their
 * two-byte length; both are -1 when the Connect Flags do not announce the field. A 5.0 property block is
 * the offset of its Variable Byte Integer length; -1 in 3.1/3.1.1 or when there is no will.
 */
export interface ConnectFields {
  /** Protocol Name bytes. The Protocol Level is at protocolNameEnd, the Connect Flags at +1, Keep Alive at +2 and +3. */
  readonly protocolName: number;
  readonly protocolNameEnd: number;
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
  /** Offset after the last field: the frame's length, unless bytes follow the fields (mqtt-packet ignores them). */
  readonly end: number;
}

/** The one result object, refilled by each call: a CONNECT walk allocates nothing (it runs once per connection). */
class Fields implements ConnectFields {
  protocolName = 0;
  protocolNameEnd = 0;
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
 * The fields of the CONNECT in `frame`, as its Connect Flags announce them (a 5.0 layout when `v5`, with its
 * Properties and Will Properties), or null when one runs past the frame. Only lengths are checked: not the
 * protocol name, level or flag rules, nor whether bytes follow the fields ({@link ConnectFields.end}).
 * The result is shared and valid until the next call: read it before calling again.
 */
export function connectFields(frame: Buffer, v5: boolean): ConnectFields | null {
  const f = fields;
  const len = frame.length;
  // Protocol Name, then Protocol Level, Connect Flags and Keep Alive (4 bytes).
  const start = afterFixedHeader(frame);
  let at = fieldEnd(frame, start);
  if (at < 0 || at + 4 > len) return null;
  f.protocolName = start + 2;
  f.protocolNameEnd = at;
  const flags = (f.flags = frame[at + 1]);
  at += 4;
  f.properties = -1;
  if (v5) {
    f.properties = at;
    at = afterProperties(frame, at);
    if (at < 0) return null;
  }
  let end = fieldEnd(frame, at);
  if (end < 0) return null;
  f.clientId = at + 2;
  f.clientIdEnd = at = end;
  f.willProperties = f.willTopic = f.willTopicEnd = f.willPayload = f.willPayloadEnd = -1;
  if (flags & 0x04) {
    if (v5) {
      f.willProperties = at;
      at = afterProperties(frame, at);
      if (at < 0) return null;
    }
    end = fieldEnd(frame, at);
    if (end < 0) return null;
    f.willTopic = at + 2;
    f.willTopicEnd = at = end;
    end = fieldEnd(frame, at);
    if (end < 0) return null;
    f.willPayload = at + 2;
    f.willPayloadEnd = at = end;
  }
  f.username = f.usernameEnd = -1;
  if (flags & 0x80) {
    end = fieldEnd(frame, at);
    if (end < 0) return null;
    f.username = at + 2;
    f.usernameEnd = at = end;
  }
  f.password = f.passwordEnd = -1;
  if (flags & 0x40) {
    end = fieldEnd(frame, at);
    if (end < 0) return null;
    f.password = at + 2;
    f.passwordEnd = at = end;
  }
  f.end = at;
  return f;
}
