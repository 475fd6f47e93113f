import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadConfig } from '@signet/config';
import { newApiKey } from '@signet/credentials';
import { createLogger } from '@signet/observability';
import { ApiKeyEntity, OpenedDatabase, openDatabase, OrgEntity, OrgSettingsEntity } from '@signet/persistence';
import { InMemoryRevocationBus } from '@signet/revocation';

import { createTestDatabase, TestDatabase } from '@signet/testing';
import { TypeOrmApiKeysRepository } from './api-keys.repository';
import { BootstrapService } from './usecases/bootstrap/bootstrap.service';
import { ApiKeysService } from './usecases/verify/api-keys.service';

// A project-level testTimeout is not applied by jest; embedded starts (initdb) and bcrypt need more than 5 s under load.
jest.setTimeout(60_000);

const logger = createLogger({ name: 'test', level: 'silent' });

describe('ApiKeysService', () => {
  let pg: TestDatabase;
  let dataDir: string;
  let db: OpenedDatabase;
  let bus: InMemoryRevocationBus;
  let service: ApiKeysService;
  const orgId = 'org_apikeystest1';

  beforeAll(async () => {
    pg = await createTestDatabase();
    dataDir = await mkdtemp(join(tmpdir(), 'signet-keys-'));
    db = await openDatabase(loadConfig({ DATABASE_URL: pg.url, SIGNET_DATA_DIR: dataDir }));
    await db.dataSource.getRepository(OrgEntity).insert({ id: orgId, name: 'keys', maxTokenTtlSeconds: null });
    bus = new InMemoryRevocationBus();
    await bus.start();
  });
  beforeEach(() => {
    service = new ApiKeysService(new TypeOrmApiKeysRepository(db.dataSource), logger, bus);
    service.onModuleInit();
  });
  afterEach(() => service.onModuleDestroy());
  afterAll(async () => {
    await bus?.close();
    await db?.close();
    await pg?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const code = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
      return 'ok';
    } catch (err) {
      return (err as { code?: string }).code ?? String(err);
    }
  };

  it('verifies a key and runs bcrypt once per cache period, even for concurrent first uses', async () => {
    const { keyId, apiKey } = await service.createKey({ orgId, name: 'backend' });
    const results = await Promise.all(Array.from({ length: 5 }, () => service.verify(apiKey)));
    for (let i = 0; i < 20; i++) results.push(await service.verify(apiKey));
    expect(results.every((p) => p.keyId === keyId)).toBe(true);
    expect(results[0]).toEqual({ keyId, orgId, name: 'backend', type: 'secret', scopes: [], ipAllowlist: [], expiresAt: null, willOnRevoke: 'suppress' });
    expect(service.stats.bcryptChecks).toBe(1);
    // The stored hash is bcrypt at cost 10, never the key.
    const row = await db.dataSource.getRepository(ApiKeyEntity).findOneByOrFail({ id: keyId });
    expect(row.keyHash).toMatch(/^\$2[aby]\$10\$/);
  });

  it('refuses malformed and checksum-failing keys before any bcrypt', async () => {
    const { apiKey } = await service.createKey({ orgId, name: 'x' });
    const typo = apiKey.slice(0, 20) + (apiKey[20] === 'a' ? 'b' : 'a') + apiKey.slice(21);
    expect(await code(service.verify(typo))).toBe('invalid_api_key');
    expect(await code(service.verify('sk_short'))).toBe('invalid_api_key');
    expect(await code(service.verify(''))).toBe('invalid_api_key');
    expect(service.stats.bcryptChecks).toBe(0);
  });

  it('refuses a well-formed key with the wrong secret, and caches that verdict too', async () => {
    const { keyId } = await service.createKey({ orgId, name: 'x' });
    const forged = newApiKey('secret', keyId).key;
    expect(await code(service.verify(forged))).toBe('invalid_api_key');
    expect(await code(service.verify(forged))).toBe('invalid_api_key');
    expect(service.stats.bcryptChecks).toBe(1);
    // Unknown key id, or a restricted-prefix string for a secret key id: no bcrypt needed.
    expect(await code(service.verify(newApiKey('secret').key))).toBe('invalid_api_key');
    expect(await code(service.verify(newApiKey('restricted', keyId).key))).toBe('invalid_api_key');
    expect(service.stats.bcryptChecks).toBe(1);
  });

  it('stops accepting a revoked key once its cache entry is dropped, locally or over the bus', async () => {
    const a = await service.createKey({ orgId, name: 'a' });
    await service.verify(a.apiKey);
    await db.dataSource.getRepository(ApiKeyEntity).update({ id: a.keyId }, { revokedAt: new Date() });
    // Still cached: the verdict lives up to 60 s unless invalidated.
    expect(await code(service.verify(a.apiKey))).toBe('ok');
    service.invalidateKey(a.keyId);
    expect(await code(service.verify(a.apiKey))).toBe('invalid_api_key');

    const b = await service.createKey({ orgId, name: 'b' });
    await service.verify(b.apiKey);
    await db.dataSource.getRepository(ApiKeyEntity).update({ id: b.keyId }, { revokedAt: new Date() });
    await bus.publish({ seq: 1, credentialIds: [b.keyId], until: Date.now() + 60_000, reason: 'api_key_revoked', at: Date.now() });
    expect(await code(service.verify(b.apiKey))).toBe('invalid_api_key');
  });

  it('refuses expired keys', async () => {
    const { apiKey } = await service.createKey({ orgId, name: 'old', expiresAt: new Date(Date.now() - 1000) });
    expect(await code(service.verify(apiKey))).toBe('invalid_api_key');
  });

  it('writes last_used_at on first use, not on every request', async () => {
    const { keyId, apiKey } = await service.createKey({ orgId, name: 'usage' });
    const repo = db.dataSource.getRepository(ApiKeyEntity);
    await service.verify(apiKey);
    let first: Date | null = null;
    for (let i = 0; i < 50 && !first; i++) {
      first = (await repo.findOneByOrFail({ id: keyId })).lastUsedAt;
      if (!first) await new Promise((r) => setTimeout(r, 10));
    }
    expect(first).toBeInstanceOf(Date);
    await new Promise((r) => setTimeout(r, 20));
    await service.verify(apiKey);
    await new Promise((r) => setTimeout(r, 50));
    expect((await repo.findOneByOrFail({ id: keyId })).lastUsedAt?.getTime()).toBe(first?.getTime());
  });

  it('enforces the IP allowlist', async () => {
    const { apiKey } = await service.createKey({ orgId, name: 'ip', ipAllowlist: ['10.0.0.0/8', '2001:db8::1'] });
    expect(await code(service.verify(apiKey, { ip: '10.1.2.3' }))).toBe('ok');
    expect(await code(service.verify(apiKey, { ip: '::ffff:10.9.9.9' }))).toBe('ok');
    expect(await code(service.verify(apiKey, { ip: '2001:db8::1' }))).toBe('ok');
    expect(await code(service.verify(apiKey, { ip: '192.168.1.1' }))).toBe('ip_not_allowed');
    expect(await code(service.verify(apiKey))).toBe('ip_not_allowed');
  });

  it("reads the org's will policy with the key (suppress without a settings row); a change reaches verdicts fetched after it", async () => {
    const willOrg = 'org_apikeyswill01';
    await db.dataSource.getRepository(OrgEntity).insert({ id: willOrg, name: 'wills', maxTokenTtlSeconds: null });
    const shortLived = new ApiKeysService(new TypeOrmApiKeysRepository(db.dataSource), logger, undefined, { verdictTtlMs: 300 });
    const expiresAt = new Date(Date.now() + 3_600_000);
    const { keyId, apiKey } = await shortLived.createKey({
      orgId: willOrg,
      name: 'device',
      type: 'restricted',
      scopes: ['mqtt:publish:status/#'],
      ipAllowlist: ['10.0.0.0/8'],
      expiresAt,
    });
    const valid = async () => {
      const result = await shortLived.check(apiKey, '10.0.0.1');
      if (result.status !== 'valid') throw new Error(`expected a valid verdict, got ${result.status}`);
      return result.principal;
    };

    // No org_settings row: the default; the rest of the key is read as before.
    expect(await valid()).toEqual({
      keyId,
      orgId: willOrg,
      name: 'device',
      type: 'restricted',
      scopes: ['mqtt:publish:status/#'],
      ipAllowlist: ['10.0.0.0/8'],
      expiresAt: expiresAt.getTime(),
      willOnRevoke: 'suppress',
    });
    const settings = db.dataSource.getRepository(OrgSettingsEntity);
    await settings.insert({ orgId: willOrg, willOnRevoke: 'publish' });
    // The cached verdict still says suppress until it expires (SIGNET_KEY_CACHE_MS)…
    expect((await valid()).willOnRevoke).toBe('suppress');
    await new Promise((r) => setTimeout(r, 350));
    // …and the next lookup reads the new setting, with one bcrypt run per lookup as before.
    const checks = shortLived.stats.bcryptChecks;
    expect((await valid()).willOnRevoke).toBe('publish');
    expect(shortLived.stats.bcryptChecks).toBe(checks + 1);
    await settings.update({ orgId: willOrg }, { willOnRevoke: 'suppress' });
    await new Promise((r) => setTimeout(r, 350));
    expect((await valid()).willOnRevoke).toBe('suppress');
    // Another org's setting does not leak into this one's keys.
    expect((await service.verify((await service.createKey({ orgId, name: 'other-org' })).apiKey)).willOnRevoke).toBe('suppress');
  });
});

describe('BootstrapService', () => {
  it('creates exactly one org and key when several processes start together on an empty database', async () => {
    const pg = await createTestDatabase();
    const dataDir = await mkdtemp(join(tmpdir(), 'signet-boot-'));
    const config = loadConfig({ DATABASE_URL: pg.url, SIGNET_DATA_DIR: dataDir });
    const dbs = await Promise.all([openDatabase(config), openDatabase(config), openDatabase(config)]);
    try {
      const services = dbs.map((d) => new BootstrapService(new TypeOrmApiKeysRepository(d.dataSource), logger));
      const results = await Promise.all(services.map((s) => s.ensureBootstrap()));
      const winners = results.filter((r) => r !== null);
      expect(winners).toHaveLength(1);
      const win = winners[0];
      expect(win?.orgId).toMatch(/^org_[0-9a-z]{12}$/);
      expect(win?.apiKey).toMatch(/^sk_/);
      expect(await services[0].ensureBootstrap()).toBeNull();
      expect(await dbs[0].dataSource.getRepository(OrgEntity).count()).toBe(1);
      const keys = await dbs[0].dataSource.getRepository(ApiKeyEntity).find();
      expect(keys.map((k) => ({ name: k.name, type: k.type, orgId: k.orgId }))).toEqual([
        { name: 'bootstrap', type: 'secret', orgId: win?.orgId },
      ]);
      const principal = await new ApiKeysService(new TypeOrmApiKeysRepository(dbs[1].dataSource), logger).verify(win?.apiKey ?? '');
      expect(principal.orgId).toBe(win?.orgId);
    } finally {
      await Promise.all(dbs.map((d) => d.close()));
      await pg.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
