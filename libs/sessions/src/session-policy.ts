import { invalidCursor } from '@signet/http';

import { invalidClientId, invalidUserId } from './errors';

/** MQTT client ids and user ids are UTF-8 strings without U+0000 [MQTT-1.5.4-2]; the registry keys on them. */
const MAX_ID = 256;
const valid = (value: string): boolean => value.length > 0 && value.length <= MAX_ID && !value.includes('\u0000');

export function checkClientId(clientId: string): string {
  if (!valid(clientId)) throw invalidClientId();
  return clientId;
}

export function checkUserId(userId: string): string {
  if (!valid(userId)) throw invalidUserId();
  return userId;
}

/** A page position: the last client id of the page, opaque to the caller. */
export const encodeSessionCursor = (clientId: string): string => Buffer.from(JSON.stringify(['c', clientId])).toString('base64url');

export function decodeSessionCursor(cursor: string): string {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(decoded) && decoded.length === 2 && decoded[0] === 'c' && typeof decoded[1] === 'string' && valid(decoded[1])) return decoded[1];
  } catch {
    // not JSON: not ours
  }
  throw invalidCursor();
}
