import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { SignetConfig } from '@signet/config';

import { MinimalLogger, SILENT_LOGGER } from './logger';

const VERSION = 1;
const KEY_BYTES = 32;
/** 96-bit IVs, the size GCM is specified for (NIST SP 800-38D §8.2). */
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

/** What a sealed secret carries; serialised as JSON so it stays readable in the database. */
interface SealedSecret {
  v: number;
  /** Which master key sealed it: first 8 hex of SHA-256(key). */
  kid: string;
  iv: string;
  tag: string;
  ct: string;
}

export const masterKeyId = (key: Buffer): string => createHash('sha256').update(key).digest('hex').slice(0, 8);

/**
 * Encrypts recoverable secrets at rest (signing keys, IdP client secrets…)
 * with AES-256-GCM under a master key. Each ciphertext names the master key
 * that sealed it, so the master key can rotate: construct with the new key
 * first and the previous ones after; old ciphertexts still open and can be
 * re-sealed at leisure.
 *
 * `context` is bound as additional authenticated data: a ciphertext moved
 * to another row (another context) no longer opens.
 */
export class SecretBox {
  private readonly keys = new Map<string, Buffer>();
  private readonly current: { kid: string; key: Buffer };

  constructor(masterKeys: Buffer | readonly Buffer[]) {
    const list = Buffer.isBuffer(masterKeys) ? [masterKeys] : [...masterKeys];
    if (list.length === 0) throw new SecretBoxError('at least one master key is required');
    for (const key of list) {
      if (key.length !== KEY_BYTES) throw new SecretBoxError(`a master key must be ${KEY_BYTES} bytes`);
      this.keys.set(masterKeyId(key), key);
    }
    this.current = { kid: masterKeyId(list[0]), key: list[0] };
  }

  /** Id of the key new secrets are sealed with. */
  get keyId(): string {
    return this.current.kid;
  }

  seal(plaintext: string, context = ''): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(VERSION, this.current.kid, context));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const sealed: SealedSecret = {
      v: VERSION,
      kid: this.current.kid,
      iv: iv.toString('base64url'),
      tag: cipher.getAuthTag().toString('base64url'),
      ct: ct.toString('base64url'),
    };
    return JSON.stringify(sealed);
  }

  open(serialized: string, context = ''): string {
    const sealed = parseSealed(serialized);
    const key = this.keys.get(sealed.kid);
    if (!key) {
      throw new SecretBoxError(
        `secret was sealed with master key ${sealed.kid}, which is not configured (SIGNET_MASTER_KEY differs between processes?)`,
      );
    }
    const iv = Buffer.from(sealed.iv, 'base64url');
    const tag = Buffer.from(sealed.tag, 'base64url');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SecretBoxError('sealed secret is malformed');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(sealed.v, sealed.kid, context));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      // GCM authentication failed: wrong key, wrong context, or the ciphertext was altered.
      throw new SecretBoxError('sealed secret failed authentication');
    }
  }

  /** True when the secret was sealed with an older master key and should be re-sealed. */
  needsReseal(serialized: string): boolean {
    return parseSealed(serialized).kid !== this.current.kid;
  }
}

const aad = (v: number, kid: string, context: string): Buffer => Buffer.from(`signet:v${v}:${kid}:${context}`, 'utf8');

function parseSealed(serialized: string): SealedSecret {
  let value: unknown;
  try {
    value = JSON.parse(serialized);
  } catch {
    throw new SecretBoxError('sealed secret is malformed');
  }
  const s = value as Partial<SealedSecret> | null;
  if (
    !s ||
    typeof s !== 'object' ||
    s.v !== VERSION ||
    typeof s.kid !== 'string' ||
    typeof s.iv !== 'string' ||
    typeof s.tag !== 'string' ||
    typeof s.ct !== 'string'
  ) {
    throw new SecretBoxError('sealed secret is malformed or of an unknown version');
  }
  return s as SealedSecret;
}

export const MASTER_KEY_FILE = 'master.key';

/**
 * The master key: SIGNET_MASTER_KEY when set, else `<dataDir>/master.key`,
 * created (0600) on first use. The generated file is for local, embedded use
 * only: replicas that each generate their own cannot read each other's secrets.
 */
export async function loadMasterKey(config: SignetConfig, logger: MinimalLogger = SILENT_LOGGER): Promise<Buffer> {
  if (config.masterKey !== undefined) {
    const key = Buffer.from(config.masterKey, 'base64');
    if (key.length !== KEY_BYTES) throw new SecretBoxError('SIGNET_MASTER_KEY must be base64 of exactly 32 bytes');
    return key;
  }
  const path = join(config.dataDir, MASTER_KEY_FILE);
  const warn = (what: string, key: Buffer) =>
    logger.warn(
      { path, masterKeyId: masterKeyId(key), externalDatabase: config.databaseUrl !== undefined },
      `${what}; production deployments must set SIGNET_MASTER_KEY (openssl rand -base64 32), the same on every replica`,
    );
  const existing = await readKeyFile(path);
  if (existing) {
    warn('using the generated master key from the data directory', existing);
    return existing;
  }
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(KEY_BYTES);
  try {
    // 'wx': fail if another process created it meanwhile; then use theirs.
    await writeFile(path, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const raced = await readKeyFile(path);
    if (!raced) throw new SecretBoxError(`${path} is unreadable`);
    warn('using the generated master key from the data directory', raced);
    return raced;
  }
  warn('generated a master key in the data directory', key);
  return key;
}

async function readKeyFile(path: string): Promise<Buffer | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== KEY_BYTES) throw new SecretBoxError(`${path} does not hold base64 of 32 bytes`);
  // Tighten a key file someone made group/world readable.
  if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600);
  return key;
}
