import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadConfig } from '@signet/config';

import { loadMasterKey, masterKeyId, SecretBox, SecretBoxError } from './secret-box';

describe('SecretBox', () => {
  const key = randomBytes(32);
  const box = new SecretBox(key);

  it('round-trips a secret and names the master key that sealed it', () => {
    const sealed = box.seal('{"d":"private"}', 'signing_key:abc');
    expect(sealed).not.toContain('private');
    const parsed = JSON.parse(sealed) as Record<string, unknown>;
    expect(parsed).toMatchObject({ v: 1, kid: masterKeyId(key) });
    expect(masterKeyId(key)).toMatch(/^[0-9a-f]{8}$/);
    expect(box.open(sealed, 'signing_key:abc')).toBe('{"d":"private"}');
  });

  it('uses a fresh IV each time', () => {
    expect(box.seal('same')).not.toBe(box.seal('same'));
  });

  const tamper = (sealed: string, field: 'ct' | 'tag' | 'iv'): string => {
    const s = JSON.parse(sealed) as Record<string, string>;
    const bytes = Buffer.from(s[field], 'base64url');
    bytes[0] ^= 0x01;
    return JSON.stringify({ ...s, [field]: bytes.toString('base64url') });
  };

  it.each(['ct', 'tag', 'iv'] as const)('detects a tampered %s', (field) => {
    const sealed = box.seal('secret value', 'ctx');
    expect(() => box.open(tamper(sealed, field), 'ctx')).toThrow(SecretBoxError);
  });

  it('refuses a ciphertext moved to another context', () => {
    const sealed = box.seal('secret value', 'row:1');
    expect(() => box.open(sealed, 'row:2')).toThrow('failed authentication');
  });

  it('refuses malformed input and unknown master keys', () => {
    expect(() => box.open('not json')).toThrow(SecretBoxError);
    expect(() => box.open('{"v":2}')).toThrow(SecretBoxError);
    const other = new SecretBox(randomBytes(32));
    expect(() => other.open(box.seal('x'))).toThrow(/not configured/);
  });

  it('keeps opening secrets sealed with a previous master key after rotation', () => {
    const sealedOld = box.seal('old secret');
    const next = randomBytes(32);
    const rotated = new SecretBox([next, key]);
    expect(rotated.open(sealedOld)).toBe('old secret');
    expect(rotated.needsReseal(sealedOld)).toBe(true);
    const resealed = rotated.seal('old secret');
    expect(rotated.needsReseal(resealed)).toBe(false);
    expect(JSON.parse(resealed)).toMatchObject({ kid: masterKeyId(next) });
  });

  it('refuses keys of the wrong size', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow(SecretBoxError);
  });
});

describe('loadMasterKey', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'signet-mk-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('uses SIGNET_MASTER_KEY when set', async () => {
    const key = randomBytes(32);
    const config = loadConfig({ SIGNET_DATA_DIR: dir, SIGNET_MASTER_KEY: key.toString('base64') });
    expect((await loadMasterKey(config)).equals(key)).toBe(true);
  });

  it('creates <dataDir>/master.key (0600) once, warns, and reuses it', async () => {
    const warnings: string[] = [];
    const logger = { info: () => undefined, error: () => undefined, warn: (_o: object, msg?: string) => void warnings.push(msg ?? '') };
    const config = loadConfig({ SIGNET_DATA_DIR: join(dir, 'data') });
    const first = await loadMasterKey(config, logger);
    const path = join(dir, 'data', 'master.key');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(Buffer.from((await readFile(path, 'utf8')).trim(), 'base64').equals(first)).toBe(true);
    const second = await loadMasterKey(config, logger);
    expect(second.equals(first)).toBe(true);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/SIGNET_MASTER_KEY/);
    // The key never appears in a log message.
    expect(warnings.join(' ')).not.toContain(first.toString('base64'));
  });
});
