import { newApiKey } from '@signet/credentials';
import { createLogger } from '@signet/observability';

import { InMemoryApiKeysRepository } from '../../testing';
import { ApiKeysService } from './api-keys.service';

/*
 * Guessing keys cannot buy bcrypt work: counted in bcrypt runs (stats), not in time. The flood's effect on
 * latency is shown by bench/bcrypt-flood.ts.
 */
describe('ApiKeysService under a key-guessing flood', () => {
  const logger = createLogger({ name: 'test', level: 'silent' });
  const org = 'org_aaaaaaaaaaaa';

  async function setup(options: { keyFailures?: number; maxConcurrentChecks?: number } = {}) {
    const repository = new InMemoryApiKeysRepository();
    const service = new ApiKeysService(repository, logger, undefined, {
      throttle: { ipFailures: 30, keyFailures: options.keyFailures ?? 10, windowMs: 60_000 },
      maxConcurrentChecks: options.maxConcurrentChecks ?? 8,
    });
    const created = await service.createKey({ orgId: org, name: 'svc' });
    return { service, created };
  }

  /** A well-formed sk_ key (valid checksum) naming `keyId`, with a random secret. */
  const guess = (keyId: string): string => newApiKey('secret', keyId).key;

  it('bounds bcrypt runs per key id whatever the number of source addresses', async () => {
    const { service, created } = await setup({ keyFailures: 10 });
    // The holder verified once before the flood: known good, never throttled.
    await expect(service.verify(created.apiKey, { ip: '192.0.2.1' })).resolves.toMatchObject({ keyId: created.keyId });
    const before = service.stats.bcryptChecks;
    const codes = new Map<string, number>();
    for (let i = 0; i < 1000; i++) {
      const ip = `10.${(i >> 8) & 255}.${i & 255}.1`;
      try {
        await service.verify(guess(created.keyId), { ip });
      } catch (err) {
        const code = (err as { code: string }).code;
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
    }
    // The budget (10), then as many from addresses that never failed (so one address cannot lock the holder out).
    expect(service.stats.bcryptChecks - before).toBe(20);
    expect(codes.get('invalid_api_key')).toBe(20);
    expect(codes.get('too_many_attempts')).toBe(980);
    await expect(service.verify(created.apiKey, { ip: '10.0.0.1' })).resolves.toMatchObject({ keyId: created.keyId });
  });

  it('a bad secret presented again is answered from the negative cache (by hash), without bcrypt', async () => {
    const { service, created } = await setup({ keyFailures: 1000 });
    const bad = guess(created.keyId);
    await expect(service.verify(bad, { ip: '10.0.0.1' })).rejects.toMatchObject({ code: 'invalid_api_key' });
    const runs = service.stats.bcryptChecks;
    for (let i = 0; i < 20; i++) await expect(service.verify(bad, { ip: `10.0.1.${i}` })).rejects.toMatchObject({ code: 'invalid_api_key' });
    expect(service.stats.bcryptChecks).toBe(runs);
  });

  it('sheds checks beyond maxConcurrentChecks with 503 verification_overloaded instead of queueing them', async () => {
    const { service } = await setup({ maxConcurrentChecks: 2 });
    // Distinct key ids: the per-key budget is not what refuses them.
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => service.verify(guess(`k${String(i).padStart(11, '0')}`), { ip: `10.0.2.${i}` })));
    const codes = results.map((r) => (r.status === 'rejected' ? (r.reason as { code: string; status: number }) : null));
    expect(codes.filter((c) => c?.code === 'verification_overloaded' && c.status === 503)).toHaveLength(8);
    expect(codes.filter((c) => c?.code === 'invalid_api_key')).toHaveLength(2);
    expect(service.stats.shed).toBe(8);
  });
});
