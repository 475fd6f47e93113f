import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadConfig, SignetConfig } from '@signet/config';

import { openDatabase, OpenedDatabase } from './database';
import { IssuedTokenEntity, OrgEntity } from './entities';
import { SIGNET_MIGRATIONS } from './migrations';
import { RevocationStore } from './revocation-store';
import { createTestDatabase, TcpProxy, TestDatabase, waitFor } from '@signet/testing';
import { DeadlineExceededError, runWithDeadline } from './deadline';
import { inTransaction, isDatabaseUnavailable, preparedQuery, runAfterCommit, statementInTransaction } from './transactions';

/** Class names equal migration names; derived so a new migration needs no edit here. */
const ALL_MIGRATIONS = SIGNET_MIGRATIONS.map((m) => m.name);

// A project-level testTimeout is not applied by jest; embedded starts (initdb) and bcrypt need more than 5 s under load.
jest.setTimeout(60_000);

const TABLES = [
  'account_recovery_codes',
  'account_signup_codes',
  'account_totp',
  'accounts',
  'api_key_usage',
  'api_keys',
  'audit_events',
  'auth_webhooks',
  'authenticator_chains',
  'certificate_authorities',
  'certificate_rules',
  'client_certificates',
  'directory_groups',
  'directory_ldap_connections',
  'directory_memberships',
  'directory_settings',
  'directory_users',
  'idempotency_keys',
  'idp_events',
  'idp_providers',
  'issued_tokens',
  'oidc_payloads',
  'org_settings',
  'orgs',
  'refresh_tokens',
  'revocations',
  'schema_migrations',
  'signing_keys',
  'sso_connections',
  'sso_identities',
];

type Mode = 'postgres' | 'embedded';

/** One suite, run against a real PostgreSQL and against embedded PGlite: same SQL, same migrations. */
describe.each<Mode>(['postgres', 'embedded'])('database (%s)', (mode) => {
  let dataDir: string;
  let pg: TestDatabase | undefined;
  let config: SignetConfig;
  let db: OpenedDatabase;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'signet-db-'));
    if (mode === 'postgres') pg = await createTestDatabase();
    config = loadConfig({ SIGNET_DATA_DIR: dataDir, ...(pg ? { DATABASE_URL: pg.url } : {}) });
    db = await openDatabase(config);
  });

  afterAll(async () => {
    await db?.close();
    await pg?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('opens the expected kind of database', () => {
    expect(db.embedded).toBe(mode === 'embedded');
    expect(db.dataSource.isInitialized).toBe(true);
  });

  it('runs the initial migration on open', async () => {
    const rows: Array<{ table_name: string }> = await db.dataSource.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    expect(rows.map((r) => r.table_name)).toEqual(TABLES);
    const applied: Array<{ name: string }> = await db.dataSource.query('SELECT name FROM schema_migrations');
    expect(applied.map((r) => r.name)).toEqual(ALL_MIGRATIONS);
  });

  it('has entities that match the migrated schema exactly (nothing for synchronize to do)', async () => {
    const pending = await db.dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('stores timestamptz, jsonb and bigserial values faithfully', async () => {
    const org = await db.dataSource.getRepository(OrgEntity).save({ id: 'org_aaaaaaaaaaaa', name: 'A', maxTokenTtlSeconds: 600 });
    expect(org.createdAt).toBeInstanceOf(Date);
    const expires = new Date(Date.now() + 3_600_000);
    await db.dataSource.getRepository(IssuedTokenEntity).insert({
      id: 'tok_000000000000000000000001',
      orgId: org.id,
      userId: 'alice@example.com',
      clientId: null,
      permissions: { publish: ['users/{user_id}/#'], subscribe: [] },
      familyId: 'fam_1',
      issuedAt: new Date(),
      expiresAt: expires,
      revokedAt: null,
      revokeReason: null,
    });
    const row = await db.dataSource.getRepository(IssuedTokenEntity).findOneByOrFail({ id: 'tok_000000000000000000000001' });
    expect(row.expiresAt.getTime()).toBe(expires.getTime());
    expect(row.permissions).toEqual({ publish: ['users/{user_id}/#'], subscribe: [] });

    const store = new RevocationStore(db.dataSource);
    const now = Date.now();
    const a = await inTransaction(db.dataSource, (m) => store.append(m, { credentialIds: ['tok_a'], until: now + 60_000, reason: 'token_revoked' }));
    const b = await inTransaction(db.dataSource, (m) => store.append(m, { credentialIds: ['tok_b', 'tok_c'], until: now - 1, reason: 'user_revoked' }));
    expect(b.seq).toBeGreaterThan(a.seq);
    expect(typeof a.seq).toBe('number');
    const active = await store.listActive(now);
    expect(active).toEqual([{ seq: a.seq, credentialIds: ['tok_a'], until: now + 60_000, reason: 'token_revoked', at: a.at }]);
    expect(await store.prune(now)).toBe(1);
  });

  it('keeps an outbox of revocations not yet on the bus, and lists what an edge polls since a seq', async () => {
    const store = new RevocationStore(db.dataSource);
    const now = Date.now();
    const append = (id: string, until: number) =>
      inTransaction(db.dataSource, (m) => store.append(m, { credentialIds: [id], until, reason: 'token_revoked' }));
    const a = await append('tok_oa', now + 60_000);
    const b = await append('tok_ob', now + 60_000);
    const gone = await append('tok_oc', now - 1);
    const pending = (await store.listUnpublished(100)).map((r) => r.seq);
    expect(pending).toEqual(expect.arrayContaining([a.seq, b.seq, gone.seq]));
    expect(pending.indexOf(a.seq)).toBeLessThan(pending.indexOf(b.seq));
    await store.markPublished([a.seq, gone.seq]);
    const left = (await store.listUnpublished(100)).map((r) => r.seq);
    expect(left).toContain(b.seq);
    expect(left).not.toContain(a.seq);
    // In force only; after a seq, or recent whatever the seq.
    expect((await store.listSince(a.seq, 100, 0)).map((r) => r.seq)).toEqual([b.seq]);
    expect((await store.listSince(b.seq, 100)).map((r) => r.seq)).toEqual(expect.arrayContaining([a.seq, b.seq]));
    expect((await store.listSince(b.seq, 100)).map((r) => r.seq)).not.toContain(gone.seq);
    expect(await store.listSince(0, 1, 0)).toHaveLength(1);
  });

  it('runs after-commit callbacks only after a commit', async () => {
    const calls: string[] = [];
    await inTransaction(db.dataSource, async (m) => {
      runAfterCommit(m, () => void calls.push('committed'));
      await m.query('SELECT 1');
      expect(calls).toEqual([]);
    });
    expect(calls).toEqual(['committed']);
    await expect(
      inTransaction(db.dataSource, async (m) => {
        runAfterCommit(m, () => void calls.push('rolled back'));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    // A failing callback does not turn a committed transaction into an error.
    await inTransaction(db.dataSource, async (m) => {
      runAfterCommit(m, () => {
        throw new Error('publish failed');
      });
    });
    expect(calls).toEqual(['committed']);
    expect(() => runAfterCommit(db.dataSource.manager, () => undefined)).toThrow(/open transaction/);
  });

  it('runs a prepared statement again after the connection that prepared it was dropped', async () => {
    const run = () => preparedQuery<{ n: number }>(db.dataSource, 'signet_test_prepared', 'SELECT $1::int + 1 AS n', [41]);
    expect(await run()).toEqual([{ n: 42 }]);
    // A failed statement makes the pool drop its connection (PGlite keeps the session, and the statement, under it).
    await expect(preparedQuery(db.dataSource, 'signet_test_failing', 'SELECT 1 / $1::int AS n', [0])).rejects.toThrow();
    expect(await run()).toEqual([{ n: 42 }]);
    expect(await run()).toEqual([{ n: 42 }]);
  });

  it('serialises transactions (row locks work through the driver)', async () => {
    await db.dataSource.query(`INSERT INTO orgs (id, name) VALUES ('org_counter00000', 'c')`);
    await db.dataSource.query(`UPDATE orgs SET max_token_ttl_seconds = 1 WHERE id = 'org_counter00000'`);
    const bump = () =>
      inTransaction(db.dataSource, async (m) => {
        const rows: Array<{ v: number }> = await m.query(
          `SELECT max_token_ttl_seconds AS v FROM orgs WHERE id = 'org_counter00000' FOR UPDATE`,
        );
        await m.query(`UPDATE orgs SET max_token_ttl_seconds = $1 WHERE id = 'org_counter00000'`, [rows[0].v + 1]);
      });
    await Promise.all(Array.from({ length: 8 }, bump));
    const rows: Array<{ v: number }> = await db.dataSource.query(
      `SELECT max_token_ttl_seconds AS v FROM orgs WHERE id = 'org_counter00000'`,
    );
    expect(rows[0].v).toBe(9);
  });

  it('reverts and re-applies the migrations', async () => {
    for (let i = 0; i < SIGNET_MIGRATIONS.length; i++) await db.dataSource.undoLastMigration();
    const rows: Array<{ n: string }> = await db.dataSource.query(
      `SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'schema_migrations'`,
    );
    expect(Number(rows[0].n)).toBe(0);
    const applied = await db.dataSource.runMigrations();
    expect(applied.map((m) => m.name)).toEqual(ALL_MIGRATIONS);
  });
});

/** The deadlines of SIGNET_DB_STATEMENT_TIMEOUT_MS and the request deadline inTransaction honours, on both kinds. */
describe.each<Mode>(['postgres', 'embedded'])('database deadlines (%s)', (mode) => {
  let dataDir: string;
  let pg: TestDatabase | undefined;
  let db: OpenedDatabase;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const orgs = async (id: string): Promise<number> =>
    Number(((await db.dataSource.query(`SELECT count(*) AS n FROM orgs WHERE id = $1`, [id])) as Array<{ n: string }>)[0].n);

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'signet-db-deadlines-'));
    if (mode === 'postgres') pg = await createTestDatabase();
    db = await openDatabase(
      loadConfig({ SIGNET_DATA_DIR: dataDir, SIGNET_DB_STATEMENT_TIMEOUT_MS: '1000', ...(pg ? { DATABASE_URL: pg.url } : {}) }),
    );
  });

  afterAll(async () => {
    await db?.close();
    await pg?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('gives up on a statement that runs past the statement timeout, as "database unavailable"', async () => {
    const started = Date.now();
    const failure = await db.dataSource.query('SELECT pg_sleep(2.5)').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeDefined();
    expect(isDatabaseUnavailable(failure)).toBe(true);
    // PostgreSQL cancels it at 1 s; PGlite cannot, and the driver gives up 0.5 s later.
    expect(Date.now() - started).toBeLessThan(2300);
    // The pool serves the next statement (on a fresh connection when the old one was abandoned).
    expect(await db.dataSource.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it("sets PostgreSQL's statement_timeout on the pool's connections", async () => {
    if (mode === 'embedded') return; // PGlite ignores the server-side settings
    expect(await db.dataSource.query('SHOW statement_timeout')).toEqual([{ statement_timeout: '1s' }]);
  });

  it('rolls back, never commits, a transaction whose work ends past the deadline', async () => {
    const work = runWithDeadline(Date.now() + 400, () =>
      inTransaction(db.dataSource, async (m) => {
        await m.query(`INSERT INTO orgs (id, name) VALUES ('org_latecommit00', 'late')`);
        await sleep(600);
      }),
    );
    await expect(work).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(await orgs('org_latecommit00')).toBe(0);
  });

  it('closes the connection under work still waiting on the database at the deadline', async () => {
    const started = Date.now();
    const work = runWithDeadline(Date.now() + 500, () =>
      inTransaction(db.dataSource, async (m) => {
        await m.query(`INSERT INTO orgs (id, name) VALUES ('org_stuckcommit0', 'stuck')`);
        // Well past the deadline, within the statement timeout.
        await m.query('SELECT pg_sleep(0.9)');
      }),
    );
    await expect(work).rejects.toBeInstanceOf(DeadlineExceededError);
    // At the deadline, not when the statement would have ended.
    expect(Date.now() - started).toBeLessThan(700);
    expect(await orgs('org_stuckcommit0')).toBe(0);
  });

  it('commits within the deadline as before', async () => {
    await runWithDeadline(Date.now() + 5000, () =>
      inTransaction(db.dataSource, (m) => m.query(`INSERT INTO orgs (id, name) VALUES ('org_intime000000', 'on time')`)),
    );
    expect(await orgs('org_intime000000')).toBe(1);
  });

  it('runs one statement with BEGIN sent along: commits, returns its rows, rolls back a failure', async () => {
    const insert = `INSERT INTO orgs (id, name) SELECT unnest($1::text[]), 'piped' RETURNING id`;
    const rows = await runWithDeadline(Date.now() + 5000, () => statementInTransaction<{ id: string }>(db.dataSource, insert, [['org_piped0000001', 'org_piped0000002']]));
    expect(rows.map((r) => r.id).sort()).toEqual(['org_piped0000001', 'org_piped0000002']);
    expect(await orgs('org_piped0000001')).toBe(1);
    // A duplicate key fails the statement: nothing of it commits, and the connection is usable afterwards.
    await expect(statementInTransaction(db.dataSource, insert, [['org_piped0000003', 'org_piped0000001']])).rejects.toThrow();
    expect(await orgs('org_piped0000003')).toBe(0);
    expect(await statementInTransaction(db.dataSource, 'SELECT 1 AS one', [])).toEqual([{ one: 1 }]);
    // Inside a transaction block even without values ("LOCK TABLE can only be used in transaction blocks" otherwise).
    await expect(statementInTransaction(db.dataSource, 'LOCK TABLE orgs IN SHARE MODE', [])).resolves.toEqual([]);
  });

  it('does not commit a piped statement still waiting on the database at the deadline', async () => {
    const started = Date.now();
    const work = runWithDeadline(Date.now() + 500, () =>
      statementInTransaction(db.dataSource, `WITH s AS (SELECT pg_sleep(0.9)) INSERT INTO orgs (id, name) SELECT 'org_pipedstuck00', 'stuck' FROM s`, []),
    );
    await expect(work).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(Date.now() - started).toBeLessThan(700);
    await sleep(600);
    expect(await orgs('org_pipedstuck00')).toBe(0);
  });
});

describe('a stalled link to PostgreSQL', () => {
  it('closes, rather than reuses, a connection whose statement got no answer', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'signet-db-stall-'));
    const pg = await createTestDatabase();
    const proxy = TcpProxy.forUrl(pg.url);
    await proxy.start();
    const db = await openDatabase(loadConfig({ SIGNET_DATA_DIR: dataDir, DATABASE_URL: proxy.urlFor(pg.url), SIGNET_DB_STATEMENT_TIMEOUT_MS: '300' }));
    try {
      // The pool's one connection (the migrations' own is closed).
      await waitFor(() => proxy.connectionCount === 1);
      proxy.stall();
      const started = Date.now();
      const failure = await db.dataSource.query('SELECT 1').then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isDatabaseUnavailable(failure)).toBe(true);
      expect(Date.now() - started).toBeLessThan(3000);
      proxy.restore();
      // Ended on release: its socket closes once the link delivers again, and the pool opens a fresh one.
      await waitFor(() => proxy.connectionCount === 0, { message: 'the abandoned connection was not closed' });
      expect(await db.dataSource.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      proxy.restore();
      await db.close();
      await proxy.close();
      await pg.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('embedded database lifecycle', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'signet-embedded-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('keeps its data across a clean restart and does not migrate twice', async () => {
    const config = loadConfig({ SIGNET_DATA_DIR: dataDir });
    const first = await openDatabase(config);
    await first.dataSource.getRepository(OrgEntity).insert({ id: 'org_persisted000', name: 'kept', maxTokenTtlSeconds: null });
    await first.close();
    await first.close(); // idempotent

    const second = await openDatabase(config);
    try {
      const org = await second.dataSource.getRepository(OrgEntity).findOneBy({ id: 'org_persisted000' });
      expect(org?.name).toBe('kept');
      const applied: Array<{ name: string }> = await second.dataSource.query('SELECT name FROM schema_migrations');
      expect(applied).toHaveLength(SIGNET_MIGRATIONS.length);
    } finally {
      await second.close();
    }
  });

  it('refuses a second opener of the same data directory while the first is open', async () => {
    const config = loadConfig({ SIGNET_DATA_DIR: dataDir });
    const first = await openDatabase(config);
    try {
      await expect(openDatabase(config)).rejects.toThrow(/already open|in use/);
    } finally {
      await first.close();
    }
    const again = await openDatabase(config);
    await again.close();
  });

  it('does not migrate when migrateOnStart is off', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'signet-nomigrate-'));
    try {
      const db = await openDatabase(loadConfig({ SIGNET_DATA_DIR: dir, SIGNET_MIGRATE_ON_START: 'false' }));
      try {
        const rows: Array<{ n: string }> = await db.dataSource.query(
          `SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'`,
        );
        expect(Number(rows[0].n)).toBe(0);
      } finally {
        await db.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('replicas starting together (postgres)', () => {
  it('migrate one after the other instead of racing', async () => {
    const pg = await createTestDatabase();
    const dataDir = await mkdtemp(join(tmpdir(), 'signet-race-'));
    try {
      const config = loadConfig({ SIGNET_DATA_DIR: dataDir, DATABASE_URL: pg.url });
      const dbs = await Promise.all([openDatabase(config), openDatabase(config), openDatabase(config)]);
      try {
        const applied: Array<{ name: string }> = await dbs[0].dataSource.query('SELECT name FROM schema_migrations');
        expect(applied).toHaveLength(SIGNET_MIGRATIONS.length);
      } finally {
        await Promise.all(dbs.map((db) => db.close()));
      }
    } finally {
      await pg.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
