import { fieldEnd } from './frame-reader';

/**
 * The one walker over a 5.0 property block (§2.2.2): the CONNECT decoder (connect-decoder.ts) decodes with
 * it, and the UTF-8 re-check of the other packets' properties (utf8.ts) reads the same offsets.
 *
 * A property is its identifier (one byte, every identifier in use fits one) then its value; the value kind
 * by identifier (§2.2.2.2): bytes for fixed sizes, 's' a UTF-8 Encoded String, 'p' a UTF-8 String Pair,
 * 'd' Binary Data, 'v' a Variable Byte Integer. Unknown identifiers are absent.
 */
export type PropertyKind = 1 | 2 | 4 | 's' | 'p' | 'd' | 'v';

const KINDS: (PropertyKind | undefined)[] = [];
const known: [number, PropertyKind][] = [
  [0x01, 1], [0x02, 4], [0x03, 's'], [0x08, 's'], [0x09, 'd'], [0x0b, 'v'], [0x11, 4], [0x12, 's'], [0x13, 2],
  [0x15, 's'], [0x16, 'd'], [0x17, 1], [0x18, 4], [0x19, 1], [0x1a, 's'], [0x1c, 's'], [0x1f, 's'], [0x21, 2],
  [0x22, 2], [0x23, 2], [0x24, 1], [0x25, 1], [0x26, 'p'], [0x27, 4], [0x28, 1], [0x29, 1], [0x2a, 1],
];
for (const [id, kind] of known) KINDS[id] = kind;

/** The value kind of property `id`, or undefined for an identifier 5.0 does not define. */
export function propertyKind(id: number): PropertyKind | undefined {
  return KINDS[id];
}

/**
 * Offset of the first property of the block at `at`, after the block's Variable Byte Integer length. Only
 * for a block `afterProperties` (frame-reader.ts) found sound, so the length is terminated.
 */
export function firstProperty(frame: Buffer, at: number): number {
  let i = at;
  while (frame[i] & 0x80) i++;
  return i + 1;
}

/**
 * Offset after the property whose identifier is at `at`, in a block ending at `end`; -1 when the identifier
 * is unknown or the value runs past the block (a Malformed Packet, §2.2.2.2).
 */
export function propertyEnd(frame: Buffer, at: number, end: number): number {
  const kind = KINDS[frame[at]];
  const i = at + 1;
  let next: number;
  if (kind === undefined) return -1;
  if (typeof kind === 'number') next = i + kind;
  else if (kind === 'v') {
    // At most four bytes (§1.5.5), the last one without its continuation bit.
    next = i;
    while (next < end && frame[next] & 0x80) if (++next - i >= 4) return -1;
    if (next >= end) return -1;
    next++;
  } else {
    next = fieldEnd(frame, i);
    if (kind === 'p' && next >= 0 && next <= end) next = fieldEnd(frame, next);
    if (next < 0) return -1;
  }
  return next <= end ? next : -1;
}
