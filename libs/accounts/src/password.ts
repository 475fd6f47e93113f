import { Algorithm, hash, verify } from '@node-rs/argon2';

/**
 * argon2id (RFC 9106) through @node-rs/argon2 (native, prebuilt, no node-gyp), with OWASP's
 * second recommended setting: 19 MiB, 2 passes, 1 lane.
 */
const PARAMS = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export const hashPassword = (password: string): Promise<string> => hash(password, PARAMS);

// Verified when the username is unknown, so an unknown name costs as much time as a wrong password.
let dummy: Promise<string> | undefined;

export async function verifyPassword(phc: string | null, password: string): Promise<boolean> {
  if (phc === null) {
    await verify(await (dummy ??= hashPassword('not-a-real-password')), password).catch(() => false);
    return false;
  }
  return verify(phc, password).catch(() => false);
}

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;
export const USERNAME = /^[A-Za-z0-9._@-]{2,64}$/;
