import { createHash, randomBytes } from 'node:crypto';

/** Refresh tokens are 256-bit random: a plain SHA-256 is enough to store them (no bcrypt needed). */
export const REFRESH_TOKEN_PREFIX = 'rt_';
export const REFRESH_TOKEN_PATTERN = /^rt_[A-Za-z0-9_-]{43}$/;

export const newRefreshToken = (): string => REFRESH_TOKEN_PREFIX + randomBytes(32).toString('base64url');
export const hashOpaqueSecret = (value: string): string => createHash('sha256').update(value).digest('hex');
