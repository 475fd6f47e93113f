/**
 * The prune of the authorization server's store (OidcPayloadPruneJob over TypeOrmOidcPayloadRepository)
 * against a real PostgreSQL and embedded PGlite: expired rows go, in batches; live rows and rows
 * without an expiry stay.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadConfig } from '@signet/config';
import { createLogger } from '@signet/observability';
import { OpenedDatabase, openDatabase } from '@signet/persistence';
import { createTestDatabase, TestDatabase } from '@signet/testing';

import { accountsOptionsFrom } from '../options';
import { OIDC_PRUNE_BATCH, OidcPayloadPruneJob } from './oidc-payload-prune.job';
import { TypeOrmOidcPayloadRepository } from './oidc-payload.repository';

jest.setTimeout(60_000);

describe.each<'postgres' | 'embedded'>(['postgres', 'embedded'])('sign-in store prune (%s)', (mode) => {
  let dataDir: string;
  let pg: TestDatabase | undefined;
  let db: OpenedDatabase;
  let payloads: TypeOrmOidcPayloadRepository;
  let job: OidcPayloadPruneJob;

  const count = async (): Promise<number> => Number(((await db.dataSource.query(`SELECT count(*) AS n FROM oidc_payloads`)) as Array<{ n: string }>)[0]!.n);

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'signet-oidc-prune-'));
    if (mode === 'postgres') pg = await createTestDatabase();
    const config = loadConfig({ SIGNET_DATA_DIR: dataDir, SIGNET_PRUNE_INTERVAL_MS: '0', ...(pg ? { DATABASE_URL: pg.url } : {}) });
    db = await openDatabase(config);
    payloads = new TypeOrmOidcPayloadRepository(db.dataSource);
    job = new OidcPayloadPruneJob(payloads, accountsOptionsFrom(config), createLogger({ name: 'test', level: 'silent' }));
  });

  afterAll(async () => {
    await job?.onModuleDestroy();
    await db?.close();
    await pg?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('deletes expired models past one batch, keeps live ones and those without an expiry', async () => {
    // More expired rows than one DELETE takes, so the pass has to go on to a second batch.
    const expired = OIDC_PRUNE_BATCH + 7;
    await db.dataSource.query(
      `INSERT INTO oidc_payloads (kind, id, payload, expires_at) SELECT 'AccessToken', 'old-' || i, '{}'::jsonb, now() - interval '1 minute' FROM generate_series(1, $1) AS i`,
      [expired],
    );
    await payloads.upsert('Session', 'live', { accountId: 'acc_1' }, 3600);
    await payloads.upsert('Client', 'forever', { client_id: 'signet-cli' }, undefined);
    expect(await count()).toBe(expired + 2);

    expect(await job.run()).toBe(expired);
    expect(await count()).toBe(2);
    expect(await payloads.find('Session', 'live')).toEqual({ accountId: 'acc_1' });
    expect(await payloads.find('Client', 'forever')).toEqual({ client_id: 'signet-cli' });

    // The live session goes once its hour has passed, and a second pass finds nothing more.
    expect(await job.run(Date.now() + 3601_000)).toBe(1);
    expect(await job.run(Date.now() + 3601_000)).toBe(0);
    expect(await payloads.find('Client', 'forever')).toEqual({ client_id: 'signet-cli' });
  });
});
