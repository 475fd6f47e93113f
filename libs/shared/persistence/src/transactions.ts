import { Query } from 'pg';
import type {
  DataSource,
  EntityManager,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
  TransactionRollbackEvent,
} from 'typeorm';

import { currentDeadline, DeadlineExceededError } from './deadline';

type AfterCommit = () => Promise<void> | void;

const pending = new WeakMap<QueryRunner, AfterCommit[]>();
const installed = new WeakSet<DataSource>();

/**
 * Runs queued callbacks once the outermost transaction of their query runner
 * has committed, and drops them on rollback. TypeORM awaits subscriber
 * promises inside `commitTransaction()`, so `dataSource.transaction(…)`
 * resolves only after the callbacks ran: a caller that answers a request
 * after its transaction has also finished the follow-up (e.g. publishing).
 */
class AfterCommitSubscriber implements EntitySubscriberInterface {
  async afterTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    const runner = event.queryRunner;
    // Releasing a savepoint also broadcasts a commit; only the real COMMIT counts.
    if (runner.isTransactionActive) return;
    const callbacks = pending.get(runner);
    if (!callbacks) return;
    pending.delete(runner);
    for (const callback of callbacks) {
      // Never let a follow-up failure surface from commitTransaction(): the
      // data is committed, and the caller would wrongly think it was not.
      try {
        await callback();
      } catch {
        // Callbacks own their error handling (logging); this is the backstop.
      }
    }
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    if (!event.queryRunner.isTransactionActive) pending.delete(event.queryRunner);
  }
}

/**
 * Queues `callback` to run after the transaction `manager` belongs to commits.
 * Nested transactions (savepoints) are not tracked separately: a callback
 * queued inside a savepoint that is rolled back still runs if the outer
 * transaction commits, so do not queue from inside savepoints.
 */
export function runAfterCommit(manager: EntityManager, callback: AfterCommit): void {
  const runner = manager.queryRunner;
  if (!runner || !runner.isTransactionActive) {
    throw new Error('runAfterCommit needs an EntityManager of an open transaction');
  }
  const dataSource = manager.connection;
  if (!installed.has(dataSource)) {
    installed.add(dataSource);
    // The subscriber list is read on every broadcast, so adding one to an
    // initialised DataSource takes effect immediately.
    dataSource.subscribers.push(new AfterCommitSubscriber());
  }
  const list = pending.get(runner);
  if (list) list.push(callback);
  else pending.set(runner, [callback]);
}

/** PostgreSQL SQLSTATEs after which a whole transaction may simply be run again. */
const RETRYABLE = new Set(['40001' /* serialization_failure */, '40P01' /* deadlock_detected */]);

export function sqlState(err: unknown): string | undefined {
  const e = err as { code?: unknown; driverError?: { code?: unknown } } | null;
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * SQLSTATEs that say the server cannot serve us now, not that the request is
 * wrong: class 08 (connection exception), 53 (insufficient resources, e.g.
 * too many connections), 57 (operator intervention: statement_timeout's
 * query_canceled 57014, shutdowns, cannot_connect_now) and the session ended
 * by idle_in_transaction_session_timeout (25P03).
 */
const UNAVAILABLE_CLASSES = ['08', '53', '57'];
const UNAVAILABLE_STATES = new Set(['25P03']);
/** Socket errors of a connection that was refused, reset or timed out. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** node-postgres / pg-pool errors that carry no code (pg 8). */
const DRIVER_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'is not queryable',
  'timeout expired',
];

/** The SQLSTATE of an error PostgreSQL reported (the server answered), as opposed to a socket or driver error. */
function serverState(err: unknown): string | undefined {
  const code = sqlState(err);
  return code !== undefined && !NETWORK_CODES.has(code) && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * True when `err` says the database cannot be reached or did not answer in
 * time (as opposed to refusing the statement): callers answer 503 / "server
 * unavailable" and may retry later.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 4; depth++) {
    if (e instanceof DeadlineExceededError) return false;
    const code = sqlState(e);
    if (code !== undefined && NETWORK_CODES.has(code)) return true;
    const state = serverState(e);
    if (state !== undefined) return UNAVAILABLE_STATES.has(state) || UNAVAILABLE_CLASSES.includes(state.slice(0, 2));
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && DRIVER_MESSAGES.some((m) => message.includes(m))) return true;
    // TypeORM wraps the driver's error (driverError); pg-pool chains the cause of a failed connect.
    const next = e as { driverError?: unknown; cause?: unknown };
    e = next.driverError ?? next.cause;
  }
  return false;
}

/**
 * `dataSource.transaction` that re-runs the work after a deadlock or a
 * serialization failure (PostgreSQL aborts one of the parties; running it
 * again is the documented remedy), bounded by the deadline of the work in
 * progress ({@link currentDeadline}, set per HTTP request): past it the
 * transaction is rolled back, never committed, and DeadlineExceededError is
 * thrown.
 */
export function inTransaction<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>, attempts = 3): Promise<T> {
  return retryingStatement(() => transaction(dataSource, work), attempts);
}

const COMMIT_RESERVE_MS = 250;

/**
 * True when work with this deadline may no longer send the statement that
 * commits it (COMMIT, or a self-committing statement): its round trip no
 * longer fits before the deadline. The same reserve as {@link inTransaction}.
 */
export function tooLateToCommit(deadline: number | undefined, now = Date.now()): boolean {
  return deadline !== undefined && now >= deadline - COMMIT_RESERVE_MS;
}

/** What differs between ways of running one transaction attempt; the deadline rules are {@link attempt}'s. */
interface AttemptSteps<T> {
  connect(): Promise<void>;
  /** Closes the connection under whatever it is waiting for; the pool drops it when released. */
  end(): void;
  /** Opens the transaction and does the work. */
  work(): Promise<T>;
  commit(): Promise<void>;
  /** After a failure the server answered: rolls back what is open. */
  rollback(): Promise<void>;
  /** `ended`: the connection was closed under the attempt. */
  release(ended: boolean): Promise<void> | void;
}

/**
 * One attempt. COMMIT is sent only before the deadline. When the deadline
 * passes while the work still waits on the database, the connection is closed
 * under it: PostgreSQL rolls back what it had started, so a statement stuck on
 * a stalled link cannot commit when the link recovers. A failure that leaves
 * the connection unusable (no answer in time, a reset) closes it too, rather
 * than sending a ROLLBACK that could only wait for another timeout.
 */
async function attempt<T>(steps: AttemptSteps<T>): Promise<T> {
  const given = currentDeadline();
  // COMMIT needs its round trip too: it is sent only while that still fits before the deadline.
  const deadline = given === undefined ? undefined : given - COMMIT_RESERVE_MS;
  const expired = (): boolean => deadline !== undefined && Date.now() >= deadline;
  if (expired()) throw new DeadlineExceededError();
  let connected = false;
  let abandoned = false;
  const abandon = (): void => {
    if (abandoned || !connected) return;
    abandoned = true;
    steps.end();
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    await steps.connect();
    connected = true;
    if (deadline !== undefined) timer = setTimeout(abandon, Math.max(0, deadline - Date.now()));
    const result = await steps.work();
    clearTimeout(timer);
    if (abandoned || expired()) throw new DeadlineExceededError();
    await steps.commit();
    return result;
  } catch (err) {
    clearTimeout(timer);
    const byDeadline = abandoned;
    // PostgreSQL answered (a constraint, a statement_timeout): the connection works, ROLLBACK is one round trip.
    if (abandoned || (serverState(err) === undefined && isDatabaseUnavailable(err))) abandon();
    else await steps.rollback();
    throw byDeadline && !(err instanceof DeadlineExceededError) ? new DeadlineExceededError() : err;
  } finally {
    await steps.release(abandoned);
  }
}

/** An attempt through a TypeORM query runner: `work` gets its manager. */
function transaction<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  const runner = dataSource.createQueryRunner();
  let client: { end?: () => Promise<void> } | undefined;
  return attempt({
    connect: async () => {
      client = (await runner.connect()) as typeof client;
    },
    // Ending a checked-out client makes the pool drop it when the runner releases it.
    end: () => void client?.end?.().catch(() => undefined),
    work: async () => {
      await runner.startTransaction();
      return work(runner.manager);
    },
    commit: () => runner.commitTransaction(),
    rollback: async () => {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
    },
    release: () => runner.release(),
  });
}

/**
 * Runs `run` (one self-contained statement, its own implicit transaction, or a
 * whole transaction: {@link inTransaction}) again after a deadlock or a
 * serialization failure. A hot path that fits in one statement saves the
 * BEGIN/COMMIT round trips.
 */
export async function retryingStatement<T>(run: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const state = sqlState(err);
      if (attempt >= attempts || state === undefined || !RETRYABLE.has(state)) throw err;
    }
  }
}

/** Key of the advisory locks Signet takes; one namespace so they never collide with other apps. */
export const ADVISORY_LOCKS = {
  bootstrap: 0x5167_0001,
  signingKeys: 0x5167_0002,
  migrations: 0x5167_0003,
  retention: 0x5167_0004,
} as const;

/** Takes a transaction-scoped advisory lock: held until commit/rollback. */
export async function advisoryXactLock(manager: EntityManager, key: number): Promise<void> {
  await manager.query('SELECT pg_advisory_xact_lock($1)', [key]);
}

interface PgClient {
  query(config: { name: string; text: string; values: readonly unknown[] } | string): Promise<{ rows: unknown[] }>;
  query(query: Query): unknown;
  end(): Promise<void>;
  release(err?: Error | boolean): void;
}

interface PgPool {
  connect(): Promise<PgClient>;
}

/** node-postgres's pool under the data source; undefined when it is not the PostgreSQL driver (a test double). */
function poolOf(dataSource: DataSource): PgPool | undefined {
  const pool = (dataSource.driver as unknown as { master?: PgPool }).master;
  return pool && typeof pool.connect === 'function' ? pool : undefined;
}

const DUPLICATE_PREPARED_STATEMENT = '42P05';

/**
 * Runs a named (server-side prepared) statement on the data source's pool and
 * returns its rows. For hot-path statements: PostgreSQL (and the embedded
 * PGlite) parses and plans it once per connection instead of on every call —
 * on the multi-CTE token revoke, planning was ~0.3–0.6 ms of a ~1.2 ms
 * statement — and the pool is used directly, without TypeORM's per-call query
 * runner. `name` must be unique per `text` across the process (and a plain
 * identifier: it is also sent unquoted).
 */
export async function preparedQuery<T>(dataSource: DataSource, name: string, text: string, values: readonly unknown[]): Promise<T[]> {
  const pool = poolOf(dataSource);
  if (!pool) {
    // Not the PostgreSQL driver (e.g. a test double): the plain path.
    return (await dataSource.query(text, [...values])) as T[];
  }
  const client = await pool.connect();
  try {
    let result: { rows: unknown[] };
    try {
      result = await client.query({ name, text, values });
    } catch (err) {
      if (sqlState(err) !== DUPLICATE_PREPARED_STATEMENT) throw err;
      // PGlite is one session under every connection: a statement prepared on a connection the pool has since
      // dropped is still there, unknown to this one.
      await client.query(`DEALLOCATE ${name}`);
      result = await client.query({ name, text, values });
    }
    client.release();
    return result.rows as T[];
  } catch (err) {
    // As pool.query: a connection that failed a statement is not reused.
    client.release(err instanceof Error ? err : true);
    throw err;
  }
}

const pglite = new WeakSet<DataSource>();

/**
 * Marks the data source of the embedded PGlite. There a BEGIN sent with the
 * extended protocol did not roll back when the connection was closed under
 * the statement (measured: the row was committed, still there after a
 * restart; a BEGIN sent as a simple query is rolled back), so
 * {@link statementInTransaction} sends BEGIN on its own there.
 */
export function markPglite(dataSource: DataSource): void {
  pglite.add(dataSource);
}

/**
 * A pg Query that sends `BEGIN` ahead of its statement in the same write,
 * before the one Sync: the server opens the transaction and runs the
 * statement in one round trip instead of two. Its rows are the statement's.
 */
class BeginThenQuery extends Query {
  /** Always the extended protocol: without values pg would send a simple query, never calling prepare (no BEGIN). */
  requiresPreparation(): boolean {
    return true;
  }

  prepare(connection: { parse(m: object): void; bind(m: object): void; execute(m: object): void }): void {
    connection.parse({ text: 'BEGIN' });
    connection.bind({});
    connection.execute({});
    // Query's own prepare: parse, bind, describe, execute and the Sync (all corked by submit into one write).
    (Query.prototype as unknown as { prepare(c: unknown): void }).prepare.call(this, connection);
  }
}

function pipelined(client: PgClient, text: string, values: readonly unknown[]): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const query = new BeginThenQuery({ text, values: [...values] }, (err: Error | null, results?: unknown) => {
      if (err) return reject(err);
      // Two results, BEGIN's and the statement's (pg lists them as an array once there is more than one).
      const all = (Array.isArray(results) ? results : [results]) as { rows: unknown[] }[];
      resolve(all[all.length - 1]?.rows ?? []);
    });
    client.query(query);
  });
}

/**
 * One statement in a transaction of its own, as `inTransaction(ds, (m) =>
 * m.query(text, values))` with the same deadline rules (COMMIT only before the
 * deadline and only once the statement has answered; the connection closed
 * under a statement still waiting at the deadline), but `BEGIN` travels with
 * the statement: two round trips instead of three. Each round trip is a chance
 * to wait for a busy core on either side, which is where the p99 of the
 * group-committed token writes went (fifth round, docs/credential-performance.md).
 * Not on the embedded PGlite ({@link markPglite}).
 */
export function statementInTransaction<T>(dataSource: DataSource, text: string, values: readonly unknown[]): Promise<T[]> {
  const pool = poolOf(dataSource);
  if (!pool || pglite.has(dataSource)) return inTransaction(dataSource, (m) => m.query(text, [...values]) as Promise<T[]>);
  return retryingStatement(() => pipelinedTransaction<T>(pool, text, values));
}

/** An attempt on a client of the pool: BEGIN and the statement in one round trip, then COMMIT. */
function pipelinedTransaction<T>(pool: PgPool, text: string, values: readonly unknown[]): Promise<T[]> {
  let client: PgClient | undefined;
  let open = false;
  let broken = false;
  return attempt({
    connect: async () => {
      client = await pool.connect();
    },
    end: () => void client?.end().catch(() => undefined),
    work: async () => {
      open = true;
      return (await pipelined(client!, text, values)) as T[];
    },
    commit: async () => {
      await client!.query('COMMIT');
      open = false;
    },
    rollback: async () => {
      if (open) await client!.query('ROLLBACK').catch(() => (broken = true));
    },
    // A connection that was closed (or failed to roll back) is dropped by the pool, never reused.
    release: (ended) => client?.release(ended || broken ? true : undefined),
  });
}
