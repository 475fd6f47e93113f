import type { LdapBinder, LdapBindVerdict } from '@signet/contracts';
import type { AuthResult, ConnectRequest } from '@signet/mqtt-edge';

import { NOT_MINE } from './chain';
import { LdapBindStep } from './ldap-step';
import type { RevocableVerdict, VerdictCache } from './verdict-cache';

const ORG = 'org_aaaaaaaaaaaa';
const request = (user: string, password: string | undefined): ConnectRequest => ({
  username: `${user}@${ORG}`,
  password: password === undefined ? undefined : Buffer.from(password),
  clientId: 'c1',
  remoteAddress: '127.0.0.1',
  protocolVersion: 5,
});

/** The directory side, answering from a table: how often it is asked is what the cache saves. */
class TableBinder implements LdapBinder {
  readonly asked: Array<[string, string, string]> = [];
  constructor(public answer: (user: string, password: string) => LdapBindVerdict) {}
  async bindConnect(orgId: string, userName: string, password: string): Promise<LdapBindVerdict> {
    this.asked.push([orgId, userName, password]);
    return this.answer(userName, password);
  }
}

describe('LdapBindStep', () => {
  let now = 1_000_000;
  const binder = new TableBinder((user, password) =>
    password === `${user}-pw` ? { result: 'allow', permissions: { publish: ['devices/{user_id}/#'], subscribe: [] } } : { result: 'deny', detail: 'wrong password' },
  );
  const step = new LdapBindStep({ binder, allowCacheMs: 60_000, denyCacheMs: 5_000, now: () => now });

  beforeEach(() => (binder.asked.length = 0));

  it('allows with the templates filled in for the user, and asks the directory once per credential', async () => {
    const first = (await step.decide(request('alice', 'alice-pw'), ORG)) as AuthResult;
    expect(first).toMatchObject({ ok: true, principal: { kind: 'ldap', credentialId: `ldap:${ORG}:alice`, subject: 'alice' } });
    expect(first.ok && first.principal.permissions.granted.publish).toEqual(['devices/alice/#']);
    await step.decide(request('alice', 'alice-pw'), ORG);
    expect(binder.asked).toHaveLength(1);
    now += 60_001;
    await step.decide(request('alice', 'alice-pw'), ORG);
    expect(binder.asked).toHaveLength(2);
  });

  it('remembers a refusal briefly, and a revocation of the user drops their cached verdict', async () => {
    expect(await step.decide(request('bob', 'guess'), ORG)).toMatchObject({ ok: false, reason: 'bad_credentials' });
    await step.decide(request('bob', 'guess'), ORG);
    expect(binder.asked).toHaveLength(1);
    now += 5_001;
    await step.decide(request('bob', 'guess'), ORG);
    expect(binder.asked).toHaveLength(2);

    await step.decide(request('bob', 'bob-pw'), ORG);
    step.invalidate([`ldap:${ORG}:bob`]);
    await step.decide(request('bob', 'bob-pw'), ORG);
    expect(binder.asked).toHaveLength(4);
  });

  it('leaves tokens, API keys, password-less CONNECTs and orgs without LDAP to other steps', async () => {
    expect(step.decide(request('alice', 'tkn_abc.def'), ORG)).toBe(NOT_MINE);
    expect(step.decide(request('svc', 'sk_live_x'), ORG)).toBe(NOT_MINE);
    expect(step.decide(request('alice', undefined), ORG)).toBe(NOT_MINE);
    const none = new LdapBindStep({ binder: new TableBinder(() => ({ result: 'ignore' })), allowCacheMs: 1000 });
    expect(await none.decide(request('alice', 'alice-pw'), ORG)).toBe(NOT_MINE);
    const down = new LdapBindStep({ binder: new TableBinder(() => ({ result: 'unavailable', detail: 'timeout' })), allowCacheMs: 1000 });
    expect(await down.decide(request('alice', 'alice-pw'), ORG)).toMatchObject({ ok: false, reason: 'server_unavailable' });
  });

  it('keys its cache by a digest of the credentials, never the password', async () => {
    await step.decide(request('carol', 'carol-pw'), ORG);
    const keys = (step as unknown as { cache: VerdictCache<RevocableVerdict> }).cache.digests();
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/); // a SHA-256, base64url
      expect(key).not.toContain('carol-pw');
    }
  });
});
