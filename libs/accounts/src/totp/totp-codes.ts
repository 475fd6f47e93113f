import { createHash, randomBytes } from 'node:crypto';

import { authenticator } from 'otplib';

/**
 * TOTP (RFC 6238) through otplib: SHA-1, 6 digits, 30 s steps — what every authenticator app reads
 * from an otpauth:// URI. One step of clock drift either way is accepted (RFC 6238 §5.2).
 */
const STEP_MS = 30_000;
const totp = authenticator.clone({ step: STEP_MS / 1000, window: 1 });
const ISSUER = 'Signet';

/** 160 bits, the key length RFC 4226 §4 recommends (R6), base32 as authenticator apps expect. */
export const newTotpSecret = (): string => authenticator.generateSecret(20);

export const otpauthUri = (username: string, secret: string): string => totp.keyuri(username, ISSUER, secret);

/**
 * The time step `code` is valid for, or null. The caller records the step so a code cannot be
 * used twice (RFC 6238 §5.2: "the verifier MUST NOT accept the second attempt of the same OTP").
 */
export function totpStep(secret: string, code: string, now = Date.now()): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totp.clone({ epoch: now }).checkDelta(code, secret);
  return delta === null ? null : Math.floor(now / STEP_MS) + delta;
}

const RECOVERY_CODES = 10;
/** Crockford's base32 (no i, l, o, u): 32 symbols, so `byte & 31` is unbiased; 12 characters = 60 bits. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** Ten one-time recovery codes, shown once as `xxxx-xxxx-xxxx`. */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODES }, () => {
    const bytes = randomBytes(12);
    const chars = [...bytes].map((b) => ALPHABET[b & 31]).join('');
    return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8)}`;
  });
}

/**
 * Recovery codes are random (not chosen by people), so a fast hash is enough at rest; spaces, dashes
 * and case are ignored when one is typed.
 */
export const hashRecoveryCode = (code: string): string =>
  createHash('sha256').update(code.toLowerCase().replace(/[\s-]/g, '')).digest('hex');
