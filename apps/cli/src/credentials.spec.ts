import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CredentialsStore, Profile } from './credentials';
import { CliError, EXIT } from './errors';

const profile: Profile = { server: 'http://127.0.0.1:8080', access_token: 'at', refresh_token: 'rt', expires_at: 1 };
const mode = async (path: string) => (await fs.stat(path)).mode & 0o777;

describe('CredentialsStore', () => {
  let root: string;
  let dir: string;
  beforeEach(async () => {
    root = await fs.mkdtemp(join(tmpdir(), 'signet-cli-'));
    dir = join(root, 'config');
  });
  afterEach(() => fs.rm(root, { recursive: true, force: true }));

  it('creates the directory 0700 and the file 0600, and reads back what it saved', async () => {
    const store = new CredentialsStore(dir);
    await store.save('default', profile);
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(store.file)).toBe(0o600);
    expect(await store.profile('default')).toEqual(profile);
    expect(await store.profile('other')).toBeUndefined();
  });

  it('reads a missing file as no profiles', async () => {
    expect(await new CredentialsStore(dir).read()).toEqual({ version: 1, profiles: {} });
  });

  it('refuses a file others can read, and does not overwrite it', async () => {
    const store = new CredentialsStore(dir);
    await store.save('default', profile);
    await fs.chmod(store.file, 0o644);
    await expect(store.read()).rejects.toMatchObject({ exitCode: EXIT.unsafeCredentials, message: expect.stringContaining('chmod 600') });
    await expect(store.save('other', profile)).rejects.toBeInstanceOf(CliError);
    expect(JSON.parse(await fs.readFile(store.file, 'utf8')).profiles).toEqual({ default: profile });
  });

  it('refuses a group-readable file too', async () => {
    const store = new CredentialsStore(dir);
    await store.save('default', profile);
    await fs.chmod(store.file, 0o640);
    await expect(store.profile('default')).rejects.toMatchObject({ exitCode: EXIT.unsafeCredentials });
  });

  it('tightens a directory of its own that others can list', async () => {
    await fs.mkdir(dir, { mode: 0o755 });
    await fs.chmod(dir, 0o755);
    await new CredentialsStore(dir).save('default', profile);
    expect(await mode(dir)).toBe(0o700);
  });

  it('replaces the file atomically: no temporary file is left, other profiles survive', async () => {
    const store = new CredentialsStore(dir);
    await store.save('a', profile);
    await store.save('b', { ...profile, access_token: 'b' });
    await store.save('a', { ...profile, access_token: 'a2' });
    expect(await fs.readdir(dir)).toEqual(['credentials.json']);
    const file = await store.read();
    expect(Object.keys(file.profiles).sort()).toEqual(['a', 'b']);
    expect(file.profiles['a'].access_token).toBe('a2');
    expect(await store.remove('a')).toBe(true);
    expect(await store.remove('a')).toBe(false);
    expect(Object.keys((await store.read()).profiles)).toEqual(['b']);
  });

  it('refuses a file that is not JSON or not a credentials file', async () => {
    const store = new CredentialsStore(dir);
    await fs.mkdir(dir, { mode: 0o700 });
    await fs.writeFile(store.file, 'not json', { mode: 0o600 });
    await expect(store.read()).rejects.toMatchObject({ exitCode: EXIT.unsafeCredentials });
    await fs.writeFile(store.file, '{"profiles":[]}', { mode: 0o600 });
    await expect(store.read()).rejects.toMatchObject({ message: expect.stringContaining('not a Signet credentials file') });
  });
});
