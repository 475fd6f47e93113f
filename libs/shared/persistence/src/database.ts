import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

import { DataSource } from 'typeorm';
import type { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';

import type { DeadlineConfig, SignetConfig } from '@signet/config';

import { EmbeddedServer, startEmbeddedServer } from './embedded-server';
import { SIGNET_ENTITIES } from './entities';
import { MinimalLogger, SILENT_LOGGER } from './logger';
import { SIGNET_MIGRATIONS } from './migrations';
import { isAlive } from './pid';
import { ADVISORY_LOCKS, markPglite } from './transactions';

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
  /**
   * Bound statements and pool waits by `config.deadlines` (default true). Off
   * for a tool that only migrates: a migration may take minutes.
   */
  deadlines?: boolean;
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
 * How long the driver waits beyond PostgreSQL's own `statement_timeout`
 * before giving up on an answer: the server's cancel normally arrives first
 * (and leaves the connection usable); this bound is for a server that cannot
 * answer at all.
 */
const CLIENT_GRACE_MS = 500;

/**
 * node-postgres pool and connection settings that bound every wait on the
 * database (see DeadlineConfig). PGlite ignores the two server-side
 * parameters; the client-side ones bound it all the same.
 */
export function deadlineOptions(deadlines: DeadlineConfig): Record<string, number> {
  return {
    // Server side: a statement that runs too long is cancelled, and a session left idle inside a
    // transaction (its client gone or stuck) is ended, so it neither holds locks nor commits late.
    statement_timeout: deadlines.dbStatementTimeoutMs,
    idle_in_transaction_session_timeout: deadlines.requestTimeoutMs,
    // Client side: a server that does not answer at all (a stalled link).
    query_timeout: deadlines.dbStatementTimeoutMs + CLIENT_GRACE_MS,
    // Waiting for a free pooled connection, or for a new one to connect.
    connectionTimeoutMillis: deadlines.dbAcquireTimeoutMs,
  };
}

interface PooledClient {
  end(): Promise<void>;
  /** node-postgres internal: the query the connection still waits on (pg 8; absent → nothing is closed). */
  _getActiveQuery?(): unknown;
}

interface PgPoolEvents {
  on(event: 'release', listener: (err: Error | undefined, client: PooledClient) => void): unknown;
}

/**
 * A client handed back while a query on it still waits for an answer (it
 * timed out on a stalled link) would make the next borrower queue behind
 * that query, and the query could still take effect when the link recovers.
 * Ending it instead closes the socket: PostgreSQL rolls back whatever it had
 * started, and the pool opens a fresh connection for the next caller.
 * Ending here, before the pool looks at the client, makes the pool drop it.
 */
function dropAbandonedConnections(dataSource: DataSource): void {
  const pool = (dataSource.driver as unknown as { master?: PgPoolEvents }).master;
  pool?.on('release', (err, client) => {
    if (err === undefined && client._getActiveQuery?.() != null) void client.end().catch(() => undefined);
  });
}

/** Initialises a data source (and migrates, on its own connection without statement deadlines: a migration may take minutes). */
async function initialise(
  options: PostgresConnectionOptions,
  config: SignetConfig,
  migrate: { lock: boolean; connections: number },
): Promise<DataSource> {
  if (config.migrateOnStart) {
    const { extra: _deadlines, ...plain } = options;
    const migrator = new DataSource({ ...plain, extra: { max: migrate.connections } });
    try {
      await migrator.initialize();
      await runMigrations(migrator, { lock: migrate.lock });
    } finally {
      if (migrator.isInitialized) await migrator.destroy().catch(() => undefined);
    }
  }
  const dataSource = new DataSource(options);
  await dataSource.initialize();
  dropAbandonedConnections(dataSource);
  return dataSource;
}

/**
 * Opens the database: PostgreSQL at `config.databaseUrl`, or, when none is
 * configured, PGlite persisted under `<dataDir>/pgdata` and served over the
 * Postgres wire protocol on a private Unix socket, so TypeORM uses the very
 * same driver, SQL and migrations as in production.
 */
export async function openDatabase(
  config: SignetConfig,
  logger: MinimalLogger = SILENT_LOGGER,
  options: OpenDatabaseOptions = {},
): Promise<OpenedDatabase> {
  if (config.databaseUrl !== undefined) {
    const dataSource = await initialise(
      {
        ...baseOptions(),
        type: 'postgres',
        url: config.databaseUrl,
        extra: { max: options.poolSize ?? 10, ...(options.deadlines === false ? {} : deadlineOptions(config.deadlines)) },
      },
      config,
      // One connection holds the advisory lock, the other migrates.
      { lock: true, connections: 2 },
    );
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
  return openEmbedded(config, logger, options);
}

async function openEmbedded(config: SignetConfig, logger: MinimalLogger, options: OpenDatabaseOptions): Promise<OpenedDatabase> {
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
    dataSource = await initialise(
      {
        ...baseOptions(),
        type: 'postgres',
        host: server.host,
        port: server.port,
        username: 'postgres',
        database: 'postgres',
        // One connection: PGlite is a single session underneath, and a pool of 1
        // keeps two transactions from ever being interleaved on it.
        extra: { max: 1, ...(options.deadlines === false ? {} : deadlineOptions(config.deadlines)) },
      },
      config,
      // One process owns the embedded database (lock file), so no advisory lock:
      // it would also hold the pool's only connection that the migrations need.
      { lock: false, connections: 1 },
    );
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  markPglite(dataSource);
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
