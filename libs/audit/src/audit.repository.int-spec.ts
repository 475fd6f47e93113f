import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadConfig } from '@signet/config';
import { openDatabase, type OpenedDatabase } from '@signet/persistence';
import { createTestDatabase, type TestDatabase } from '@signet/testing';

import { completeEvent, type AuditEvent } from './audit-event';
import { TypeOrmAuditRepository } from './audit.repository';

// Embedded starts (initdb) need more than jest's 5 s under load.
jest.setTimeout(60_000);

/** The batched insert (one statement, rows as arrays) on both databases: what is listed is what was written. */
describe.each(['postgres', 'embedded'] as const)('audit repository (%s)', (mode) => {
  let db: OpenedDatabase;
  let repository: TypeOrmAuditRepository;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'signet-audit-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const pg: TestDatabase | null = mode === 'postgres' ? await createTestDatabase() : null;
    if (pg) cleanups.push(() => pg.drop());
    db = await openDatabase(loadConfig({ SIGNET_DATA_DIR: dataDir, ...(pg ? { DATABASE_URL: pg.url } : {}) }));
    cleanups.push(() => db.close());
    repository = new TypeOrmAuditRepository(db.dataSource);
  });

  afterAll(async () => {
    // Last opened, first closed: the database before its server and its directory.
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('stores every field of a batch, nulls as nulls, details as JSON', async () => {
    const at = new Date('2026-12-03T12:00:00.123Z');
    const full = completeEvent({
      type: 'auth',
      orgId: 'org_audit0000001',
      actor: { kind: 'token', id: 'alice' },
      action: 'mqtt.connect',
      target: 'client-1',
      outcome: 'failure',
      at,
      address: '192.0.2.7',
      edgeId: 'edge-1',
      reasonCode: 'bad_credentials',
      durationMs: 1.25,
      requestId: 'req-1',
      details: { connack: 4, quote: `it's "quoted", {braced}`, nested: { list: [1, null] } },
    });
    const bare = completeEvent({ type: 'admin', orgId: 'org_audit0000001', actor: { kind: 'system', id: null }, action: 'orgs.create', outcome: 'success', at: new Date(at.getTime() + 1) });
    const many = Array.from({ length: 150 }, (_, i) =>
      completeEvent({ type: 'admin', orgId: 'org_audit0000002', actor: { kind: 'api_key', id: `key_${i}` }, action: 'tokens.issue', outcome: 'success', details: { i } }),
    );
    await repository.insertMany([full, bare, ...many]);

    const listed = await repository.list({ orgId: 'org_audit0000001' }, 10);
    expect(listed).toEqual<AuditEvent[]>([bare, full]);
    const rows: { n: number; nulls: number }[] = await db.dataSource.query(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE details IS NULL)::int AS nulls FROM audit_events WHERE org_id = 'org_audit0000001'`,
    );
    expect(rows[0]).toEqual({ n: 2, nulls: 1 });
    const others = await repository.list({ orgId: 'org_audit0000002' }, 200);
    expect(others.map((e) => e.id).sort()).toEqual(many.map((e) => e.id).sort());
  });
});
