/**
 * The SQL of TOTP and SSO (TypeOrmTotpRepository, TypeOrmSsoRepository) against a real PostgreSQL and
 * embedded PGlite, the two databases Signet runs on: the same migrations, the same statements.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadConfig } from '@signet/config';
import { AccountEntity, OpenedDatabase, openDatabase, OrgEntity, SecretBox } from '@signet/persistence';
import { createTestDatabase, TestDatabase } from '@signet/testing';

import { TypeOrmSsoRepository } from './sso/sso.repository';
import { TypeOrmTotpRepository } from './totp/totp.repository';

jest.setTimeout(60_000);

describe.each<'postgres' | 'embedded'>(['postgres', 'embedded'])('TOTP and SSO repositories (%s)', (mode) => {
  let dataDir: string;
  let pg: TestDatabase | undefined;
  let db: OpenedDatabase;
  let totp: TypeOrmTotpRepository;
  let sso: TypeOrmSsoRepository;
  const box = new SecretBox(randomBytes(32));

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'signet-accounts-'));
    if (mode === 'postgres') pg = await createTestDatabase();
    db = await openDatabase(loadConfig({ SIGNET_DATA_DIR: dataDir, ...(pg ? { DATABASE_URL: pg.url } : {}) }));
    totp = new TypeOrmTotpRepository(db.dataSource, box);
    sso = new TypeOrmSsoRepository(db.dataSource, box);
    await db.dataSource.getRepository(OrgEntity).save([
      { id: 'org_aaaaaaaaaaaa', name: 'A', maxTokenTtlSeconds: 600 },
      { id: 'org_bbbbbbbbbbbb', name: 'B', maxTokenTtlSeconds: 600 },
    ]);
    await db.dataSource.getRepository(AccountEntity).save({ id: 'acc_1', orgId: 'org_aaaaaaaaaaaa', username: 'alice', role: 'owner', passwordHash: 'x' });
  });

  afterAll(async () => {
    await db?.close();
    await pg?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps the TOTP secret sealed, confirms once, spends each time step once', async () => {
    expect(await totp.putPending('acc_1', 'JBSWY3DPEHPK3PXP')).toBe(true);
    const [row] = (await db.dataSource.query(`SELECT secret_sealed FROM account_totp WHERE account_id = 'acc_1'`)) as Array<{ secret_sealed: string }>;
    expect(row.secret_sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(await totp.find('acc_1')).toMatchObject({ secret: 'JBSWY3DPEHPK3PXP', confirmedAt: null, lockedUntil: null });

    expect(await totp.confirm('acc_1', 100, ['h1', 'h2'])).toBe(true);
    expect(await totp.confirm('acc_1', 100, ['h3'])).toBe(false);
    expect(await totp.putPending('acc_1', 'ANOTHERSECRET234')).toBe(false);
    expect((await totp.find('acc_1'))?.confirmedAt).toBeInstanceOf(Date);

    expect(await totp.useStep('acc_1', 100)).toBe(false);
    expect(await totp.useStep('acc_1', 101)).toBe(true);
    expect(await totp.useStep('acc_1', 101)).toBe(false);
    expect(await totp.useStep('acc_1', 99)).toBe(false);
    // Concurrent uses of one step: exactly one wins.
    expect((await Promise.all([totp.useStep('acc_1', 102), totp.useStep('acc_1', 102), totp.useStep('acc_1', 102)])).filter(Boolean)).toHaveLength(1);

    expect(await totp.countRecoveryCodes('acc_1')).toBe(2);
    expect(await totp.useRecoveryCode('acc_1', 'h1')).toBe(true);
    expect(await totp.useRecoveryCode('acc_1', 'h1')).toBe(false);
    expect(await totp.countRecoveryCodes('acc_1')).toBe(1);
  });

  it('counts wrong codes and locks at the limit; the lock ends by itself', async () => {
    expect(await totp.recordFailure('acc_1', 3, 60_000)).toBeNull();
    expect(await totp.recordFailure('acc_1', 3, 60_000)).toBeNull();
    const until = await totp.recordFailure('acc_1', 3, 60_000);
    expect(until).toBeGreaterThan(Date.now() + 50_000);
    expect((await totp.find('acc_1'))?.lockedUntil).toBe(until);
    // Once the lock has ended, codes are accepted again and the count starts from zero.
    await db.dataSource.query(`UPDATE account_totp SET locked_until = now() - interval '1 second' WHERE account_id = 'acc_1'`);
    expect((await totp.find('acc_1'))?.lockedUntil).toBeNull();
    expect(await totp.recordFailure('acc_1', 3, 60_000)).toBeNull();

    await totp.remove('acc_1');
    expect(await totp.find('acc_1')).toBeNull();
    expect(await totp.countRecoveryCodes('acc_1')).toBe(0);
  });

  it('stores one SSO connection per org with its secret sealed to the org, and links people by subject', async () => {
    const write = { id: 'sso_a', name: 'IdP', issuer: 'https://idp.example.com', clientId: 'signet', clientSecret: 'top-secret-value', allowedDomains: ['example.com'], defaultRole: 'viewer' as const, linkByEmail: false };
    expect(await sso.save('org_nonexistent1', write)).toBeNull();
    const saved = await sso.save('org_aaaaaaaaaaaa', write);
    expect(saved).toMatchObject({ id: 'sso_a', orgId: 'org_aaaaaaaaaaaa', clientSecret: 'top-secret-value', allowedDomains: ['example.com'] });
    // Replacing keeps the id; the new id of the write is ignored.
    expect(await sso.save('org_aaaaaaaaaaaa', { ...write, id: 'sso_other', name: 'Renamed', defaultRole: null })).toMatchObject({ id: 'sso_a', name: 'Renamed', defaultRole: null });
    const [row] = (await db.dataSource.query(`SELECT client_secret_sealed FROM sso_connections WHERE id = 'sso_a'`)) as Array<{ client_secret_sealed: string }>;
    expect(row.client_secret_sealed).not.toContain('top-secret-value');
    expect(await sso.listForSignIn()).toEqual([{ id: 'sso_a', name: 'Renamed' }]);

    expect(await sso.createLinked('sso_a', 'sub-1', { id: 'acc_sso1', orgId: 'org_aaaaaaaaaaaa', username: 'carol@example.com', role: 'viewer' })).toBe('created');
    expect(await sso.linkedAccountId('sso_a', 'sub-1')).toBe('acc_sso1');
    const [made] = (await db.dataSource.query(`SELECT password_hash FROM accounts WHERE id = 'acc_sso1'`)) as Array<{ password_hash: string | null }>;
    expect(made.password_hash).toBeNull();
    // A taken username leaves nothing behind (one transaction).
    expect(await sso.createLinked('sso_a', 'sub-2', { id: 'acc_sso2', orgId: 'org_aaaaaaaaaaaa', username: 'alice', role: 'viewer' })).toBe('taken');
    expect(await sso.linkedAccountId('sso_a', 'sub-2')).toBeNull();
    await sso.link('sso_a', 'sub-alice', 'acc_1');
    expect(await sso.linkedAccountId('sso_a', 'sub-alice')).toBe('acc_1');

    expect(await sso.delete('org_aaaaaaaaaaaa')).toBe(true);
    expect(await sso.delete('org_aaaaaaaaaaaa')).toBe(false);
    expect(await sso.linkedAccountId('sso_a', 'sub-1')).toBeNull();
  });
});
