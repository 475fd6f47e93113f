/**
 * UTF-8 Encoded Strings must be well-formed and must not hold U+0000 (3.1.1 [MQTT-1.5.3-1/2], 5.0
 * [MQTT-1.5.4-1/2]): otherwise the packet is malformed. mqtt-packet decodes strings leniently (ill-formed
 * UTF-8 becomes U+FFFD), so a decoded string holding U+FFFD or U+0000 is re-checked from its bytes.
 * Both are rare: the usual path scans each short string once and reads no bytes.
 */
import { isUtf8 } from 'node:buffer';

import { connectFields, type ConnectFields } from './connect-fields';
import { afterFixedHeader, afterProperties, fieldEnd } from './frame-reader';

/** True when a decoded string may come from ill-formed UTF-8 (U+FFFD) or holds U+0000. */
export function suspectString(s: string | undefined): boolean {
  if (s === undefined) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c === 0xfffd) return true;
  }
  return false;
}

/** The bytes [start, end) are well-formed UTF-8 without U+0000. */
function wellFormed(frame: Buffer, start: number, end: number): boolean {
  const bytes = frame.subarray(start, end);
  return isUtf8(bytes) && !bytes.includes(0);
}

/**
 * The length-prefixed string (or binary data) at `at`; when `check`, it must be well-formed UTF-8 without
 * U+0000. Returns the offset after it, or -1 when it is not, or runs past the frame.
 */
function checkStrings(frame: Buffer, at: number, check: boolean): number {
  const end = fieldEnd(frame, at);
  return end >= 0 && check && !wellFormed(frame, at + 2, end) ? -1 : end;
}

/**
 * The CONNECT's client id, will topic and username are well-formed UTF-8 without U+0000 (§3.1.3). Called
 * only when a decoded one is suspect; the password and will payload are binary and not checked. The whole
 * layout must fit, password included: on a frame mqtt-packet decoded it does, unless a 5.0 property block's
 * length disagrees with the properties in it (a malformed packet all the same).
 */
export function connectStringsAreWellFormed(frame: Buffer, version: number, f: ConnectFields | null = connectFields(frame, version === 5)): boolean {
  return (
    f !== null &&
    wellFormed(frame, f.clientId, f.clientIdEnd) &&
    (f.willTopic < 0 || wellFormed(frame, f.willTopic, f.willTopicEnd)) &&
    (f.username < 0 || wellFormed(frame, f.username, f.usernameEnd))
  );
}

/**
 * The topic filters of a SUBSCRIBE (each followed by its options byte) or UNSUBSCRIBE are well-formed UTF-8
 * without U+0000 (§3.8.3, §3.10.3). Called only when a decoded filter is suspect.
 */
export function filtersAreWellFormed(frame: Buffer, version: number, subscribe: boolean): boolean {
  let i = afterFixedHeader(frame) + 2; // packet identifier
  if (version === 5) i = afterProperties(frame, i);
  if (i < 0) return false;
  while (i < frame.length) {
    i = checkStrings(frame, i, true);
    if (i < 0) return false;
    if (subscribe) i++;
  }
  return i === frame.length;
}

/** The topic of a PUBLISH, right after its fixed header (§3.3.2.1), is well-formed UTF-8. Called only when the decoded topic holds U+FFFD. */
export function publishTopicIsWellFormed(frame: Buffer): boolean {
  return checkStrings(frame, afterFixedHeader(frame), true) >= 0;
}

/** True when a decoded 5.0 property object holds a string (User Property names and values included) that is suspect. */
export function suspectProperties(properties: object | undefined): boolean {
  if (properties === undefined) return false;
  const props = properties as Record<string, unknown>;
  for (const key in props) {
    const value = props[key];
    if (key === 'userProperties') {
      const pairs = value as Record<string, string | string[]>;
      for (const name in pairs) {
        if (suspectString(name)) return true;
        const v = pairs[name];
        if (typeof v === 'string' ? suspectString(v) : v.some(suspectString)) return true;
      }
    } else if (typeof value === 'string') {
      if (suspectString(value)) return true;
    } else if (Array.isArray(value) && value.some((v) => typeof v === 'string' && suspectString(v))) {
      return true;
    }
  }
  return false;
}

/**
 * Size of each 5.0 property's value by identifier (§2.2.2.2): bytes for fixed sizes, 's' a UTF-8 string,
 * 'p' a string pair, 'd' binary data, 'v' a Variable Byte Integer. Unknown identifiers are absent.
 */
const PROPERTY_KINDS: Record<number, number | 's' | 'p' | 'd' | 'v'> = {
  0x01: 1, 0x02: 4, 0x03: 's', 0x08: 's', 0x09: 'd', 0x0b: 'v', 0x11: 4, 0x12: 's', 0x13: 2, 0x15: 's',
  0x16: 'd', 0x17: 1, 0x18: 4, 0x19: 1, 0x1a: 's', 0x1c: 's', 0x1f: 's', 0x21: 2, 0x22: 2, 0x23: 2,
  0x24: 1, 0x25: 1, 0x26: 'p', 0x27: 4, 0x28: 1, 0x29: 1, 0x2a: 1,
};

/**
 * The property block at `at` (its Variable Byte Integer length first): every UTF-8 string in it, both
 * strings of each User Property included [MQTT-1.5.7-1], is well-formed without U+0000. Returns the offset
 * after the block, or -1.
 */
function checkProperties(frame: Buffer, at: number): number {
  const end = afterProperties(frame, at);
  if (end < 0) return -1;
  // The properties start after the block's length (a Variable Byte Integer afterProperties found terminated).
  let i = at;
  while (frame[i] & 0x80) i++;
  i++;
  while (i < end) {
    const kind = PROPERTY_KINDS[frame[i++]];
    if (kind === undefined) return -1;
    if (typeof kind === 'number') i += kind;
    else if (kind === 'v') {
      while (i < end && frame[i] & 0x80) i++;
      i++;
    } else {
      i = checkStrings(frame, i, kind !== 'd');
      if (i >= 0 && kind === 'p') i = checkStrings(frame, i, true);
      if (i < 0) return -1;
    }
  }
  return i === end ? end : -1;
}

/**
 * Every UTF-8 string inside the properties of a 5.0 packet (the will properties of a CONNECT included) is
 * well-formed without U+0000 [MQTT-1.5.4-1/2], [MQTT-1.5.7-1]. Called only when a decoded one is suspect
 * (`suspectProperties`), on a frame the decoder accepted. A CONNECT's fields may come walked already (`connect`).
 */
export function propertiesAreWellFormed(frame: Buffer, connect?: ConnectFields | null): boolean {
  const type = frame[0] >> 4;
  let i = afterFixedHeader(frame);
  const remaining = frame.length - i;
  switch (type) {
    case 1: {
      // CONNECT: its properties, then the will properties when there is a will. When both blocks are sound,
      // mqtt-packet read the fields where connectFields finds them, so they fit: requiring it refuses nothing more.
      const f = connect === undefined ? connectFields(frame, true) : connect;
      return f !== null && checkProperties(frame, f.properties) >= 0 && (f.willProperties < 0 || checkProperties(frame, f.willProperties) >= 0);
    }
    case 3: {
      // PUBLISH: topic, packet identifier when QoS > 0.
      i = checkStrings(frame, i, false);
      if (i < 0) return false;
      if (frame[0] & 0x06) i += 2;
      return checkProperties(frame, i) >= 0;
    }
    case 4:
    case 5:
    case 6:
    case 7:
      // Acknowledgements: packet identifier, reason code, properties when the Remaining Length allows.
      return remaining < 4 || checkProperties(frame, i + 3) >= 0;
    case 8:
    case 10:
      return checkProperties(frame, i + 2) >= 0;
    case 14:
    case 15:
      // DISCONNECT, AUTH: reason code, properties when the Remaining Length allows.
      return remaining < 2 || checkProperties(frame, i + 1) >= 0;
    default:
      return true;
  }
}
