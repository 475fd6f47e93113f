import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

import type { MinimalLogger } from './logger';
import { isAlive } from './pid';

/**
 * The embedded PostgreSQL: PGlite (Postgres compiled to WASM) persisted in a
 * directory and served over the Postgres wire protocol on a Unix socket by
 * @electric-sql/pglite-socket, inside a worker thread. The socket is in a
 * fresh directory only this user can enter: PGlite asks for no password, and
 * a local TCP port would let any user of the machine in. It also costs less
 * per round trip than TCP on loopback (no TCP stack on either side, both on
 * the process's one core in the benchmark). The worker is there for two
 * reasons:
 *  - PGlite executes queries synchronously in WASM; on its own thread it
 *    never stalls the main event loop (MQTT, HTTP) while a query runs;
 *  - PGlite loads its runtime with dynamic `import()`, which module sandboxes
 *    built on vm contexts (jest) cannot serve; a worker is a plain Node
 *    context, so the embedded mode behaves the same under test as in use.
 */
export interface EmbeddedServer {
  /** The socket's directory: node-postgres connects to `<host>/.s.PGSQL.<port>` for a host starting with `/`. */
  host: string;
  port: number;
  /** Stops the socket server, then closes PGlite so its files are left consistent. Idempotent. */
  stop(): Promise<void>;
}

type WorkerMessage = { type: 'ready' } | { type: 'error'; message: string } | { type: 'closed'; error?: string };

/*
 * Plain CommonJS run by the worker (eval'd: no separate file to ship or
 * transpile). Module paths are resolved by the parent and passed in.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require(workerData.pglitePath);
const { PGLiteSocketServer } = require(workerData.socketPath);
let db;
let server;
const started = (async () => {
  try {
    db = await PGlite.create({ dataDir: workerData.dataDir });
    server = new PGLiteSocketServer({ db, path: workerData.socketFile, maxConnections: workerData.maxConnections });
    await server.start();
    parentPort.postMessage({ type: 'ready' });
  } catch (err) {
    parentPort.postMessage({ type: 'error', message: String((err && err.stack) || err) });
  }
})();
parentPort.on('message', async (msg) => {
  if (!msg || msg.type !== 'close') return;
  let error;
  try {
    await started;
    if (server) await server.stop();
    if (db && !db.closed) await db.close();
  } catch (err) {
    error = String((err && err.stack) || err);
  }
  parentPort.postMessage({ type: 'closed', error });
  parentPort.close();
});
`;

/** The port in the socket's file name, PostgreSQL's convention; nothing listens on it. */
const SOCKET_PORT = 5432;

/** Socket directories are `<tmp>/signet-pg-<pid>-<random>`. */
const SOCKET_DIR_PREFIX = 'signet-pg-';
const SOCKET_DIR_NAME = new RegExp(`^${SOCKET_DIR_PREFIX}(\\d+)-`);

/** Removes the socket directories of processes that are gone; one that cannot be removed (another user's) stays. */
async function removeDeadSocketDirs(): Promise<void> {
  const names = await readdir(tmpdir()).catch(() => [] as string[]);
  await Promise.all(
    names.map(async (name) => {
      const match = SOCKET_DIR_NAME.exec(name);
      if (match === null || isAlive(Number(match[1]))) return;
      await rm(join(tmpdir(), name), { recursive: true, force: true }).catch(() => undefined);
    }),
  );
}

export async function startEmbeddedServer(dataDir: string, logger: MinimalLogger): Promise<EmbeddedServer> {
  // mkdtemp makes it 0700. In the temporary directory, not the data directory: a socket path is limited to
  // about 104 bytes, and a data directory on a bind mount (Docker Desktop, NFS) may not hold a socket. The
  // name carries the pid: a killed process leaves its directory behind, and the next start removes it.
  await removeDeadSocketDirs();
  const socketDir = await mkdtemp(join(tmpdir(), `${SOCKET_DIR_PREFIX}${process.pid}-`));
  const removeSocketDir = () => rm(socketDir, { recursive: true, force: true });
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      dataDir,
      socketFile: join(socketDir, `.s.PGSQL.${SOCKET_PORT}`),
      pglitePath: require.resolve('@electric-sql/pglite'),
      socketPath: require.resolve('@electric-sql/pglite-socket'),
      // The pool uses one connection; one spare lets it reconnect while the
      // server is still noticing the old socket is gone.
      maxConnections: 2,
    },
  });

  let exited = false;
  const exit = new Promise<number>((resolve) =>
    worker.once('exit', (code) => {
      exited = true;
      resolve(code);
    }),
  );
  const next = () =>
    new Promise<WorkerMessage>((resolve, reject) => {
      const onMessage = (msg: WorkerMessage) => {
        cleanup();
        resolve(msg);
      };
      const onError = (err: Error) => {
        cleanup();
        reject(err);
      };
      const onExit = (code: number) => {
        cleanup();
        reject(new Error(`embedded database worker exited (code ${code})`));
      };
      const cleanup = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
    });

  const first = await next().catch(async (err: unknown) => {
    await removeSocketDir();
    throw err;
  });
  if (first.type !== 'ready') {
    await worker.terminate();
    await removeSocketDir();
    throw new Error(`embedded database failed to start: ${first.type === 'error' ? first.message : first.type}`);
  }
  worker.on('error', (err) => logger.error({ err }, 'embedded database worker failed'));

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    if (!exited) {
      const closed = next();
      worker.postMessage({ type: 'close' });
      const reply = await closed.catch((err: unknown) => ({ type: 'closed' as const, error: String(err) }));
      if (reply.type === 'closed' && reply.error) {
        logger.error({ error: reply.error }, 'embedded database did not close cleanly');
      }
      await exit;
    }
    await removeSocketDir();
  };
  return { host: socketDir, port: SOCKET_PORT, stop: () => (stopping ??= stop()) };
}
