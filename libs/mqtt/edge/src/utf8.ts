/**
 * UTF-8 Encoded Strings must be well-formed and must not hold U+0000 (3.1.1 [MQTT-1.5.3-1/2], 5.0
 * [MQTT-1.5.4-1/2]): otherwise the packet is malformed. mqtt-packet decodes strings leniently (ill-formed
 * UTF-8 becomes U+FFFD), so a decoded string holding U+FFFD or U+0000 is re-checked from its bytes.
 * Both are rare: the usual path scans each short string once and reads no bytes.
 */
import { isUtf8 } from 'node:buffer';

/** True when a decoded string may come from ill-formed UTF-8 (U+FFFD) or holds U+0000. */
export function suspectString(s: string | undefined): boolean {
  if (s === undefined) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c === 0xfffd) return true;
  }
  return false;
}

/** Offset of the variable header: after the first byte and the Remaining Length (§2.2.3). */
function afterFixedHeader(frame: Buffer): number {
  let i = 1;
  while (i < 5 && i < frame.length && frame[i] & 0x80) i++;
  return i + 1;
}

/** Offset after a Variable Byte Integer length and the bytes it counts (5.0 property blocks). */
function skipProperties(frame: Buffer, at: number): number {
  let length = 0;
  let shift = 0;
  let i = at;
  while (i < frame.length && shift <= 21) {
    const b = frame[i++];
    length += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return i + length;
    shift += 7;
  }
  return Infinity;
}

/**
 * The length-prefixed string (or binary data) at `at`; when `check`, it must be well-formed UTF-8 without
 * U+0000. Returns the offset after it, or -1 when it is not, or runs past the frame.
 */
function checkStrings(frame: Buffer, at: number, check: boolean): number {
  if (at + 2 > frame.length) return -1;
  const end = at + 2 + frame.readUInt16BE(at);
  if (end > frame.length) return -1;
  if (check) {
    const bytes = frame.subarray(at + 2, end);
    if (!isUtf8(bytes) || bytes.includes(0)) return -1;
  }
  return end;
}

/**
 * The CONNECT's client id, will topic and username are well-formed UTF-8 without U+0000 (§3.1.3). Called
 * only when a decoded one is suspect; the password and will payload are binary and not checked.
 */
export function connectStringsAreWellFormed(frame: Buffer, version: number): boolean {
  let i = afterFixedHeader(frame);
  if (i + 2 > frame.length) return false;
  i += 2 + frame.readUInt16BE(i); // protocol name
  if (i + 4 > frame.length) return false;
  const flags = frame[i + 1];
  i += 4; // level, flags, keepalive
  if (version === 5) i = skipProperties(frame, i);
  i = checkStrings(frame, i, true); // client id
  if (i < 0) return false;
  if (flags & 0x04) {
    if (version === 5) i = skipProperties(frame, i);
    i = checkStrings(frame, i, true); // will topic
    if (i < 0) return false;
    i = checkStrings(frame, i, false); // will payload
    if (i < 0) return false;
  }
  if (flags & 0x80) return checkStrings(frame, i, true) >= 0; // username
  return true;
}

/**
 * The topic filters of a SUBSCRIBE (each followed by its options byte) or UNSUBSCRIBE are well-formed UTF-8
 * without U+0000 (§3.8.3, §3.10.3). Called only when a decoded filter is suspect.
 */
export function filtersAreWellFormed(frame: Buffer, version: number, subscribe: boolean): boolean {
  let i = afterFixedHeader(frame) + 2; // packet identifier
  if (version === 5) i = skipProperties(frame, i);
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
