import { crc32 } from 'node:zlib';

import { base62Uint32, randomBase36, randomBase62 } from './random';

/**
 * API key strings: `sk_<key id>_<secret><checksum>`.
 *
 * - the key id (12 base36) makes lookup O(1): no scan over bcrypt hashes;
 * - the secret is 32 base62 characters (~190 bits);
 * - the checksum (CRC32 of everything before it, 6 base62) lets a typo be
 *   refused before any hashing, and lets secret scanners recognise a leak.
 * The whole key is 54 bytes: inside bcrypt's 72-byte input limit.
 */
export type ApiKeyType = 'secret' | 'restricted';
export const API_KEY_PREFIX: Record<ApiKeyType, string> = { secret: 'sk_', restricted: 'rk_' };
export const API_KEY_PATTERN = /^(sk|rk)_([0-9a-z]{12})_([0-9A-Za-z]{32})([0-9A-Za-z]{6})$/;

export interface ParsedApiKey {
  type: ApiKeyType;
  keyId: string;
  key: string;
}

const checksum = (body: string): string => base62Uint32(crc32(body));

export function newApiKey(type: ApiKeyType, keyId = randomBase36(12)): ParsedApiKey {
  const body = `${API_KEY_PREFIX[type]}${keyId}_${randomBase62(32)}`;
  return { type, keyId, key: body + checksum(body) };
}

/** Parses and checks a presented key; null when malformed or its checksum is wrong. */
export function parseApiKey(key: string): ParsedApiKey | null {
  const m = API_KEY_PATTERN.exec(key);
  if (!m) return null;
  if (checksum(key.slice(0, -6)) !== m[4]) return null;
  return { type: m[1] === 'sk' ? 'secret' : 'restricted', keyId: m[2], key };
}

export const looksLikeApiKey = (value: string): boolean => value.startsWith('sk_') || value.startsWith('rk_');
