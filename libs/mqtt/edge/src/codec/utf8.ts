/**
 * UTF-8 Encoded Strings must be well-formed and must not hold U+0000 (3.1.1 [MQTT-1.5.3-1/2], 5.0
 * [MQTT-1.5.4-1/2]): otherwise the packet is malformed. mqtt-packet decodes strings leniently (ill-formed
 * UTF-8 becomes U+FFFD), so a decoded string holding U+FFFD or U+0000 is re-checked from its bytes.
 * Both are rare: the usual path scans each short string once and reads no bytes.
 */
import { isUtf8 } from 'node:buffer';

import { afterFixedHeader, afterProperties, fieldEnd } from './frame-reader';
import { firstProperty, propertyEnd, propertyKind } from './properties';

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
export function wellFormed(frame: Buffer, start: number, end: number): boolean {
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

/**
 * True when a decoded 5.0 property object holds a string (User Property names and values included) that is
 * suspect, or a null where a string should be: mqtt-packet gives null for a string that runs past the packet.
 */
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
        if (typeof v === 'string' ? suspectString(v) : !Array.isArray(v) || v.some((s) => typeof s !== 'string' || suspectString(s))) return true;
      }
    } else if (typeof value === 'string') {
      if (suspectString(value)) return true;
    } else if (value === null || (Array.isArray(value) && value.some((v) => v === null || (typeof v === 'string' && suspectString(v))))) {
      return true;
    }
  }
  return false;
}

/**
 * The property block at `at` (its Variable Byte Integer length first): every UTF-8 string in it, both
 * strings of each User Property included [MQTT-1.5.7-1], is well-formed without U+0000. Returns the offset
 * after the block, or -1.
 */
function checkProperties(frame: Buffer, at: number): number {
  const end = afterProperties(frame, at);
  if (end < 0) return -1;
  for (let i = firstProperty(frame, at); i < end; ) {
    const next = propertyEnd(frame, i, end);
    if (next < 0) return -1;
    const kind = propertyKind(frame[i]);
    if (kind === 's' || kind === 'p') {
      const second = checkStrings(frame, i + 1, true);
      if (second < 0 || (kind === 'p' && checkStrings(frame, second, true) < 0)) return -1;
    }
    i = next;
  }
  return end;
}

/**
 * Every UTF-8 string inside the properties of a 5.0 packet after CONNECT is well-formed without U+0000
 * [MQTT-1.5.4-1/2], [MQTT-1.5.7-1]. Called only when a decoded one is suspect (`suspectProperties`), on a
 * frame mqtt-packet accepted. A CONNECT's properties are checked as it is decoded (connect-decoder.ts).
 */
export function propertiesAreWellFormed(frame: Buffer): boolean {
  const type = frame[0] >> 4;
  let i = afterFixedHeader(frame);
  const remaining = frame.length - i;
  switch (type) {
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
