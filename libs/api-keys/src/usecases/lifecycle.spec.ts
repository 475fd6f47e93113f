import { createLogger } from '@signet/observability';

import type { ApiKeyPrincipal } from '../principal';
import { InMemoryApiKeysRepository, RecordingKeyRevocations } from '../testing';
import { CreateKeyUseCase } from './create/create-key.usecase';
import { issueApiKey } from './create/issue-key';
import { ListKeysUseCase } from './list/list-keys.usecase';
import { RevokeKeyUseCase } from './revoke/revoke-key.usecase';
import { RotateKeyUseCase } from './rotate/rotate-key.usecase';
import { ApiKeysService } from './verify/api-keys.service';

// bcrypt (cost 10) runs once per key created.
jest.setTimeout(30_000);

const ORG = 'org_aaaaaaaaaaaa';
const HOUR = 3_600_000;

/** What a rejected promise's ProblemError says (status and code), or 'ok'. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    const e = err as { status?: number; code?: string };
    return `${e.status} ${e.code}`;
  }
}

function setup() {
  const repository = new InMemoryApiKeysRepository();
  const revocations = new RecordingKeyRevocations();
  const verifier = new ApiKeysService(repository, createLogger({ name: 'test', level: 'silent' }));
  return {
    repository,
    revocations,
    create: new CreateKeyUseCase(repository),
    list: new ListKeysUseCase(repository),
    rotate: new RotateKeyUseCase(repository, revocations, verifier),
    revoke: new RevokeKeyUseCase(repository, revocations),
  };
}

const secret: ApiKeyPrincipal = {
  keyId: 'secretkey001',
  orgId: ORG,
  name: 'admin',
  type: 'secret',
  scopes: [],
  ipAllowlist: [],
  expiresAt: null,
  willOnRevoke: 'suppress',
};

const restricted = (over: Partial<ApiKeyPrincipal> = {}): ApiKeyPrincipal => ({
  ...secret,
  keyId: 'restricted01',
  name: 'ops',
  type: 'restricted',
  scopes: ['keys:write', 'tokens:write', 'mqtt:publish:events/#'],
  ipAllowlist: ['10.0.0.0/8'],
  expiresAt: Date.now() + 24 * HOUR,
  ...over,
});

describe('creating a key: validation', () => {
  it('refuses bad names, scopes and allowlists with their codes', async () => {
    const { create } = setup();
    expect(await outcome(create.execute({ caller: secret, name: 'a b', type: 'secret' }))).toBe('400 invalid_name');
    expect(await outcome(create.execute({ caller: secret, name: 'svc', type: 'secret', scopes: ['tokens:write'] }))).toBe('400 scopes_not_allowed');
    expect(await outcome(create.execute({ caller: secret, name: 'svc', type: 'restricted' }))).toBe('400 scopes_required');
    expect(await outcome(create.execute({ caller: secret, name: 'svc', type: 'restricted', scopes: ['keys:everything'] }))).toBe('400 invalid_scope');
    expect(await outcome(create.execute({ caller: secret, name: 'svc', type: 'restricted', scopes: ['mqtt:publish:a/#/b'] }))).toBe('400 invalid_scope');
    const tooMany = Array.from({ length: 101 }, () => '10.0.0.1');
    expect(await outcome(create.execute({ caller: secret, name: 'svc', type: 'secret', ipAllowlist: tooMany }))).toBe('400 invalid_ip_allowlist');
    expect(await outcome(create.execute({ caller: secret, name: 'svc', type: 'secret', ipAllowlist: ['10.0.0.0/33'] }))).toBe('400 invalid_ip_allowlist');
    expect(await outcome(create.execute({ caller: secret, name: 'svc', type: 'secret', expiresAt: 'tomorrow' }))).toBe('400 invalid_expires_at');
    expect(await outcome(create.execute({ caller: secret, name: 'svc', type: 'secret', expiresAt: '2001-01-01T00:00:00Z' }))).toBe('400 invalid_expires_at');
  });

  it('de-duplicates scopes and gives secret keys none', async () => {
    const { create } = setup();
    const r = await create.execute({ caller: secret, name: 'svc', type: 'restricted', scopes: ['tokens:read', 'tokens:read'] });
    expect(r.key.scopes).toEqual(['tokens:read']);
    expect(r.apiKey).toMatch(/^rk_/);
  });
});

describe('no escalation through a restricted key', () => {
  it('cannot create a secret key, a wider scope or filter, a wider allowlist or a later expiry', async () => {
    const { create } = setup();
    const caller = restricted();
    const base = { caller, name: 'child', type: 'restricted' as const };
    expect(await outcome(create.execute({ ...base, type: 'secret' }))).toBe('403 privilege_escalation');
    expect(await outcome(create.execute({ ...base, scopes: ['keys:read', 'org:write'] }))).toBe('403 privilege_escalation');
    expect(await outcome(create.execute({ ...base, scopes: ['mqtt:publish:#'] }))).toBe('403 privilege_escalation');
    expect(await outcome(create.execute({ ...base, scopes: ['tokens:write'], ipAllowlist: ['0.0.0.0/0'] }))).toBe('403 privilege_escalation');
    expect(await outcome(create.execute({ ...base, scopes: ['tokens:write'], ipAllowlist: [] }))).toBe('403 privilege_escalation');
    const later = new Date((caller.expiresAt ?? 0) + HOUR).toISOString();
    expect(await outcome(create.execute({ ...base, scopes: ['tokens:write'], expiresAt: later }))).toBe('403 privilege_escalation');
  });

  it('may create a narrower key, which inherits the limits it omits', async () => {
    const { create } = setup();
    const caller = restricted();
    const inherited = await create.execute({ caller, name: 'child', type: 'restricted', scopes: ['mqtt:publish:events/sensors/#'] });
    expect(inherited.key.ipAllowlist).toEqual(['10.0.0.0/8']);
    expect(inherited.key.expiresAt?.getTime()).toBe(caller.expiresAt);
    const narrowed = await create.execute({ caller, name: 'child2', type: 'restricted', scopes: ['tokens:write'], ipAllowlist: ['::ffff:10.1.0.0/112'] });
    expect(narrowed.key.ipAllowlist).toEqual(['::ffff:10.1.0.0/112']);
  });

  it('cannot rotate or revoke a key holding more than it does, nor a secret key', async () => {
    const { repository, rotate, revoke, revocations } = setup();
    const caller = restricted();
    const wide = await issueApiKey(repository, { orgId: ORG, name: 'wide', type: 'restricted', scopes: ['org:write'], ipAllowlist: ['10.0.0.0/8'] });
    const anywhere = await issueApiKey(repository, { orgId: ORG, name: 'anywhere', type: 'restricted', scopes: ['tokens:write'] });
    const sk = await issueApiKey(repository, { orgId: ORG, name: 'sk', type: 'secret' });
    for (const keyId of [wide.keyId, anywhere.keyId, sk.keyId]) {
      expect(await outcome(rotate.execute({ caller, keyId }))).toBe('403 privilege_escalation');
      expect(await outcome(revoke.execute({ caller, keyId }))).toBe('403 privilege_escalation');
    }
    expect(revocations.recorded).toEqual([]);
    expect([...repository.rows.values()].every((r) => r.revokedAt === null && r.replacedBy === null)).toBe(true);
  });

  it('may revoke a key within its own rights, and itself', async () => {
    const { repository, revoke, revocations } = setup();
    const narrow = await issueApiKey(repository, { orgId: ORG, name: 'narrow', type: 'restricted', scopes: ['tokens:write'], ipAllowlist: ['10.2.0.0/16'] });
    expect(await outcome(revoke.execute({ caller: restricted(), keyId: narrow.keyId }))).toBe('ok');
    const self = await issueApiKey(repository, { orgId: ORG, name: 'self', type: 'restricted', scopes: ['org:write'] });
    expect(await outcome(revoke.execute({ caller: restricted({ keyId: self.keyId, scopes: ['keys:write'] }), keyId: self.keyId }))).toBe('ok');
    expect(revocations.recorded).toEqual([
      { keyIds: [narrow.keyId], reason: 'api_key_revoked' },
      { keyIds: [self.keyId], reason: 'api_key_revoked' },
    ]);
  });
});

describe('rotation', () => {
  it('bounds the grace period to 0..7 days in whole seconds', async () => {
    const { repository, rotate } = setup();
    const { keyId } = await issueApiKey(repository, { orgId: ORG, name: 'svc' });
    for (const graceSeconds of [-1, 1.5, 7 * 86400 + 1]) {
      expect(await outcome(rotate.execute({ caller: secret, keyId, graceSeconds }))).toBe('400 invalid_grace_period');
    }
    expect(repository.rows.get(keyId)?.replacedBy).toBeNull();
  });

  it('keeps the old key until the grace ends (never past its own expiry), once', async () => {
    const { repository, rotate, revocations } = setup();
    const expiresAt = new Date(Date.now() + 30 * 60_000);
    const { keyId } = await issueApiKey(repository, { orgId: ORG, name: 'svc', type: 'restricted', scopes: ['tokens:read'], ipAllowlist: ['10.0.0.1'], expiresAt });
    const before = Date.now();
    const rotated = await rotate.execute({ caller: secret, keyId });
    expect(rotated.key).toMatchObject({ name: 'svc', type: 'restricted', scopes: ['tokens:read'], ipAllowlist: ['10.0.0.1'], rotatedFrom: keyId, expiresAt });
    expect(rotated.previous.replacedBy).toBe(rotated.key.id);
    // Default grace is an hour, but the old key expires in 30 minutes.
    expect(rotated.previous.expiresAt?.getTime()).toBe(expiresAt.getTime());
    expect(revocations.recorded).toEqual([]);
    expect(await outcome(rotate.execute({ caller: secret, keyId }))).toBe('409 key_already_rotated');

    const other = await issueApiKey(repository, { orgId: ORG, name: 'other' });
    const short = await rotate.execute({ caller: secret, keyId: other.keyId, graceSeconds: 60 });
    expect(short.previous.expiresAt?.getTime()).toBeGreaterThanOrEqual(before + 60_000);
    expect(short.previous.expiresAt?.getTime()).toBeLessThanOrEqual(Date.now() + 60_000);
  });

  it('with grace 0 revokes the old key in the same transaction; refuses inactive and unknown keys', async () => {
    const { repository, rotate, revocations } = setup();
    const { keyId } = await issueApiKey(repository, { orgId: ORG, name: 'svc' });
    const rotated = await rotate.execute({ caller: secret, keyId, graceSeconds: 0 });
    expect(rotated.previous.revokedAt).not.toBeNull();
    expect(revocations.recorded).toEqual([{ keyIds: [keyId], reason: 'api_key_rotated' }]);
    expect(await outcome(rotate.execute({ caller: secret, keyId }))).toBe('409 key_not_active');
    expect(await outcome(rotate.execute({ caller: secret, keyId: 'unknown00000' }))).toBe('404 key_not_found');
    expect(await outcome(rotate.execute({ caller: { ...secret, orgId: 'org_bbbbbbbbbbbb' }, keyId: rotated.key.id }))).toBe('404 key_not_found');
  });

  it('revoking the successor also revokes a predecessor still in its grace', async () => {
    const { repository, rotate, revoke, revocations } = setup();
    const { keyId } = await issueApiKey(repository, { orgId: ORG, name: 'svc' });
    const rotated = await rotate.execute({ caller: secret, keyId, graceSeconds: 600 });
    await revoke.execute({ caller: secret, keyId: rotated.key.id });
    expect(revocations.recorded).toEqual([{ keyIds: [keyId, rotated.key.id], reason: 'api_key_revoked' }]);
  });
});

describe('listing', () => {
  it('pages newest first with keyset cursors and refuses foreign cursors', async () => {
    const { repository, list } = setup();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await issueApiKey(repository, { orgId: ORG, name: `k${i}` })).keyId);
    await issueApiKey(repository, { orgId: 'org_bbbbbbbbbbbb', name: 'elsewhere' });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await list.execute({ caller: secret, limit: 2, cursor });
      seen.push(...page.keys.map((k) => k.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    expect(seen).toEqual([...ids].reverse());
    expect(await outcome(list.execute({ caller: secret, limit: 2, cursor: 'not-a-cursor' }))).toBe('400 invalid_cursor');
  });
});
