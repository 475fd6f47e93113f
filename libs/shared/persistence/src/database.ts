import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

import { DataSource } from 'typeorm';
import type { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';

import type { SignetConfig } from '@signet/config';

import { EmbeddedServer, startEmbeddedServer } from './embedded-server';
import { SIGNET_ENTITIES } from './entities';
import { MinimalLogger, SILENT_LOGGER } from './logger';
import { SIGNET_MIGRATIONS } from './migrations';
import { ADVISORY_LOCKS } from './transactions';

export interface OpenedDatabase {
  /** Initialised; migrated when `config.migrateOnStart`. */
  dataSource: DataSource;
  /** True when backed by the embedded PGlite under `<dataDir>/pgdata`. */
  embedded: boolean;
  /** Closes the pool, then (embedded) the socket server and PGlite. Idempotent. */
  close(): Promise<void>;
}

/** What `openDatabase` returns (the name the apps use). */
export type Database = OpenedDatabase;

export interface OpenDatabaseOptions {
  /** Pool size against an external PostgreSQL (default 10). Embedded always uses 1. */
  poolSize?: number;
}

export const MIGRATIONS_TABLE = 'schema_migrations';
export const EMBEDDED_DIR = 'pgdata';

/** The options both modes share: same entities, same migrations, never synchronize. */
function baseOptions(): Omit<PostgresConnectionOptions, 'type'> {
  return {
    entities: SIGNET_ENTITIES,
    migrations: SIGNET_MIGRATIONS,
    migrationsTableName: MIGRATIONS_TABLE,
    // Run by openDatabase itself (see runMigrations): TypeORM's own run takes no lock.
    migrationsRun: false,
    synchronize: false,
    logging: false,
    applicationName: 'signet',
  };
}

/**
 * Opens the database: PostgreSQL at `config.databaseUrl`, or, when none is
 * configured, PGlite persisted under `<dataDir>/pgdata` and served over the
 * Postgres wire protocol on 127.0.0.1 (random port), so TypeORM uses the very
 * same driver, SQL and migrations as in production.
 */
export async function openDatabase(
  config: SignetConfig,
  logger: MinimalLogger = SILENT_LOGGER,
  options: OpenDatabaseOptions = {},
): Promise<OpenedDatabase> {
  if (config.databaseUrl !== undefined) {
    const dataSource = new DataSource({
      ...baseOptions(),
      type: 'postgres',
      url: config.databaseUrl,
      extra: { max: options.poolSize ?? 10 },
    });
    try {
      await dataSource.initialize();
      if (config.migrateOnStart) await runMigrations(dataSource, { lock: true });
    } catch (err) {
      if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
      throw err;
    }
    logger.info({ embedded: false, migrated: config.migrateOnStart }, 'database ready');
    let closed = false;
    return {
      dataSource,
      embedded: false,
      close: async () => {
        if (closed) return;
        closed = true;
        if (dataSource.isInitialized) await dataSource.destroy();
      },
    };
  }
  return openEmbedded(config, logger);
}

async function openEmbedded(config: SignetConfig, logger: MinimalLogger): Promise<OpenedDatabase> {
  const dir = join(config.dataDir, EMBEDDED_DIR);
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const releaseLock = await lockDataDir(join(config.dataDir, `${EMBEDDED_DIR}.lock`));
  let server: EmbeddedServer | undefined;
  let dataSource: DataSource | undefined;

  const close = async (): Promise<void> => {
    // Order matters: drain the pool first, then stop the server, which
    // closes PGlite and leaves its files consistent for the next start.
    try {
      if (dataSource?.isInitialized) await dataSource.destroy();
    } finally {
      await server?.stop();
      await releaseLock();
    }
  };

  try {
    server = await startEmbeddedServer(dir, logger);
    dataSource = new DataSource({
      ...baseOptions(),
      type: 'postgres',
      host: server.host,
      port: server.port,
      username: 'postgres',
      database: 'postgres',
      // One connection: PGlite is a single session underneath, and a pool of 1
      // keeps two transactions from ever being interleaved on it.
      extra: { max: 1 },
    });
    await dataSource.initialize();
    // One process owns the embedded database (lock file), so no advisory lock:
    // it would also hold the pool's only connection that the migrations need.
    if (config.migrateOnStart) await runMigrations(dataSource, { lock: false });
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  logger.info({ embedded: true, dir, migrated: config.migrateOnStart }, 'embedded database ready');

  let closing: Promise<void> | undefined;
  return {
    dataSource,
    embedded: true,
    close: () => (closing ??= close()),
  };
}

/**
 * Applies pending migrations. With `lock`, under a session advisory lock held
 * on a separate connection, so replicas starting together against one
 * PostgreSQL migrate one after the other (the later ones find nothing to do)
 * instead of racing on CREATE TABLE.
 */
export async function runMigrations(dataSource: DataSource, options: { lock: boolean }): Promise<string[]> {
  if (!options.lock) return (await dataSource.runMigrations({ transaction: 'each' })).map((m) => m.name);
  const runner = dataSource.createQueryRunner();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCKS.migrations]);
    try {
      return (await dataSource.runMigrations({ transaction: 'each' })).map((m) => m.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCKS.migrations]);
    }
  } finally {
    await runner.release();
  }
}

/**
 * PGlite is single-process: two processes on one data directory would corrupt
 * it. A pid lock file refuses the second one (and is taken over when the pid
 * it names is gone, e.g. after a crash).
 */
async function lockDataDir(path: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await unlink(path).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new Error(
          `the embedded database in ${path.replace(/\.lock$/, '')} is in use by process ${pid}; ` +
            'stop it, or set DATABASE_URL to share a PostgreSQL between processes',
        );
      }
      if (pid === process.pid) {
        throw new Error(`the embedded database in ${path.replace(/\.lock$/, '')} is already open in this process`);
      }
      // Stale lock from a process that is gone.
      await unlink(path).catch(() => undefined);
    }
  }
  throw new Error(`could not lock ${path}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
