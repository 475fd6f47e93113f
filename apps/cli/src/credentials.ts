import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

import { CliError, EXIT } from './errors';

/** One signed-in session: server + account + org. */
export interface Profile {
  server: string;
  access_token: string;
  refresh_token?: string;
  /** ms epoch of the access token's expiry. */
  expires_at: number;
  account?: { account_id: string; username: string; org_id: string; role: string };
}

export interface CredentialsFile {
  version: 1;
  profiles: Record<string, Profile>;
}

/** SIGNET_CONFIG_DIR, else ~/.signet. */
export const configDir = (env: NodeJS.ProcessEnv = process.env): string => env['SIGNET_CONFIG_DIR'] || join(homedir(), '.signet');

const OTHERS = 0o077;

/**
 * ~/.signet/credentials.json: the directory is 0700 and the file 0600; a file (or directory) that
 * others may read or write is refused rather than used, and every write replaces the file atomically
 * (a private temporary file in the same directory, fsync, rename).
 */
export class CredentialsStore {
  readonly file: string;

  constructor(readonly dir: string = configDir()) {
    this.file = join(dir, 'credentials.json');
  }

  async read(): Promise<CredentialsFile> {
    let stat;
    try {
      stat = await fs.stat(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, profiles: {} };
      throw new CliError(`cannot read ${this.file}: ${(err as Error).message}`, EXIT.unsafeCredentials);
    }
    if (process.platform !== 'win32' && (stat.mode & OTHERS) !== 0) {
      throw new CliError(
        `${this.file} can be read by others (mode ${(stat.mode & 0o777).toString(8)}); refusing to use it. Run \`chmod 600 ${this.file}\` or \`signet login\` again after deleting it`,
        EXIT.unsafeCredentials,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(await fs.readFile(this.file, 'utf8'));
    } catch {
      throw new CliError(`${this.file} is not valid JSON; delete it and run \`signet login\``, EXIT.unsafeCredentials);
    }
    const file = parsed as Partial<CredentialsFile>;
    if (file?.version !== 1 || typeof file.profiles !== 'object' || file.profiles === null) {
      throw new CliError(`${this.file} is not a Signet credentials file; delete it and run \`signet login\``, EXIT.unsafeCredentials);
    }
    return file as CredentialsFile;
  }

  async profile(name: string): Promise<Profile | undefined> {
    return (await this.read()).profiles[name];
  }

  async save(name: string, profile: Profile): Promise<void> {
    const file = await this.read();
    file.profiles[name] = profile;
    await this.write(file);
  }

  /** Removes the profile; true when there was one. */
  async remove(name: string): Promise<boolean> {
    const file = await this.read();
    if (!(name in file.profiles)) return false;
    delete file.profiles[name];
    await this.write(file);
    return true;
  }

  private async write(file: CredentialsFile): Promise<void> {
    await this.ensureDir();
    const tmp = join(this.dir, `.credentials.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await fs.open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(file, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await fs.rename(tmp, this.file);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    }
  }

  private async ensureDir(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const stat = await fs.stat(this.dir);
    if (process.platform !== 'win32' && (stat.mode & OTHERS) !== 0) {
      // Ours to fix when it is ours: a directory others can list or write lets them swap the file.
      if (stat.uid !== process.getuid?.()) {
        throw new CliError(`${this.dir} belongs to another user; set SIGNET_CONFIG_DIR`, EXIT.unsafeCredentials);
      }
      await fs.chmod(this.dir, 0o700);
    }
  }
}
