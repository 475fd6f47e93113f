import { randomBytes, randomInt } from 'node:crypto';

const BASE36 = '0123456789abcdefghijklmnopqrstuvwxyz';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Uniform random string over an alphabet (no modulo bias: randomInt rejects). */
export function randomString(length: number, alphabet: string): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

export const randomBase36 = (length: number): string => randomString(length, BASE36);
export const randomBase62 = (length: number): string => randomString(length, BASE62);

/** Fixed-width base62 of an unsigned 32-bit number (6 chars hold 2^32). */
export function base62Uint32(value: number): string {
  let v = value >>> 0;
  let out = '';
  for (let i = 0; i < 6; i++) {
    out = BASE62[v % 62] + out;
    v = Math.floor(v / 62);
  }
  return out;
}

export const randomHex = (bytes: number): string => randomBytes(bytes).toString('hex');
