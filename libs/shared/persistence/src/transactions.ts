import type {
  DataSource,
  EntityManager,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
  TransactionRollbackEvent,
} from 'typeorm';

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
 * `dataSource.transaction` that re-runs the work after a deadlock or a
 * serialization failure (PostgreSQL aborts one of the parties; running it
 * again is the documented remedy).
 */
export function inTransaction<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>, attempts = 3): Promise<T> {
  return retryingStatement(() => dataSource.transaction(work), attempts);
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

interface PgPool {
  query(config: { name: string; text: string; values: readonly unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * Runs a named (server-side prepared) statement on the data source's pool and
 * returns its rows. For hot-path statements: PostgreSQL (and the embedded
 * PGlite) parses and plans it once per connection instead of on every call —
 * on the multi-CTE token revoke, planning was ~0.3–0.6 ms of a ~1.2 ms
 * statement — and the pool is used directly, without TypeORM's per-call query
 * runner. `name` must be unique per `text` across the process.
 */
export async function preparedQuery<T>(dataSource: DataSource, name: string, text: string, values: readonly unknown[]): Promise<T[]> {
  const pool = (dataSource.driver as unknown as { master?: PgPool }).master;
  if (!pool || typeof pool.query !== 'function') {
    // Not the PostgreSQL driver (e.g. a test double): the plain path.
    return (await dataSource.query(text, [...values])) as T[];
  }
  const result = await pool.query({ name, text, values });
  return result.rows as T[];
}
