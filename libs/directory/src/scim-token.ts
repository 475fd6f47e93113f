import { createHash, randomBytes } from 'node:crypto';

/** The org's SCIM bearer token: `scim_` and 32 random bytes; only its SHA-256 is stored (it has full entropy, no KDF needed). */
export const SCIM_TOKEN_PREFIX = 'scim_';

export const newScimToken = (): string => SCIM_TOKEN_PREFIX + randomBytes(32).toString('base64url');

export const scimTokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

export const looksLikeScimToken = (token: string): boolean => token.startsWith(SCIM_TOKEN_PREFIX) && token.length < 128;
