import { generateSigningKey, signAccessToken } from '@signet/credentials';
import type { AuthResult } from '@signet/mqtt-edge';

import { PublicKeyCache } from './key-source';
import { TokenAuthenticator } from './token-authenticator';

describe('TokenAuthenticator', () => {
  const org = 'org_aaaaaaaaaaaa';
  const now = Math.floor(Date.now() / 1000);
  const revoked = new Set<string>();
  let auth: TokenAuthenticator;
  let sign: (
    perm: { pub: string[]; sub: string[] },
    extra?: { jti?: string; exp?: number; cid?: string; will?: 'publish' },
  ) => Promise<string>;

  beforeAll(async () => {
    const key = await generateSigningKey();
    const keys = new PublicKeyCache(async () => [key.publicJwk]);
    await keys.refresh();
    auth = new TokenAuthenticator({ keys, revoked });
    sign = (perm, extra = {}) =>
      signAccessToken({ sub: 'alice', org, jti: extra.jti ?? 'tok_000000000000000000000001', iat: now, exp: extra.exp ?? now + 60, perm, ...(extra.cid ? { cid: extra.cid } : {}), ...(extra.will ? { will: extra.will } : {}) }, key);
  });

  const connect = (password: string, clientId = 'c1', username = `alice@${org}`): Promise<AuthResult> =>
    Promise.resolve(auth.authenticate({ username, password: Buffer.from(password), clientId, remoteAddress: '127.0.0.1', protocolVersion: 5 }));
  const principal = async (password: string, clientId = 'c1') => {
    const result = await connect(password, clientId);
    if (!result.ok) throw new Error(`refused: ${result.detail}`);
    return result.principal;
  };

  it('fills {user_id} and shares one permission set between connections of a token', async () => {
    const token = await sign({ pub: ['users/{user_id}/#'], sub: ['users/{user_id}/#'] });
    const a = await principal(token, 'c1');
    const b = await principal(token, 'c2');
    expect(a.permissions.canPublish('users/alice/x')).toBe(true);
    expect(a.permissions.canPublish('users/bob/x')).toBe(false);
    expect(b.permissions).toBe(a.permissions);
    expect(a).toMatchObject({ credentialId: 'tok_000000000000000000000001', kind: 'token', orgId: org, subject: 'alice' });
  });

  it('expands {client_id} per connection', async () => {
    const token = await sign({ pub: ['devices/{client_id}/out'], sub: [] }, { jti: 'tok_000000000000000000000002' });
    const a = await principal(token, 'dev-a');
    const b = await principal(token, 'dev-b');
    expect(a.permissions.canPublish('devices/dev-a/out')).toBe(true);
    expect(a.permissions.canPublish('devices/dev-b/out')).toBe(false);
    expect(b.permissions.canPublish('devices/dev-b/out')).toBe(true);
  });

  it('refuses a revoked token, even one verified before', async () => {
    const token = await sign({ pub: [], sub: [] }, { jti: 'tok_000000000000000000000003' });
    expect((await connect(token)).ok).toBe(true);
    revoked.add('tok_000000000000000000000003');
    expect(await connect(token)).toMatchObject({ ok: false, reason: 'bad_credentials' });
  });

  it('refuses a username that is not the token’s, and a client id it is not bound to', async () => {
    const token = await sign({ pub: [], sub: [] }, { jti: 'tok_000000000000000000000004', cid: 'dev-1' });
    expect(await connect(token, 'dev-1', `bob@${org}`)).toMatchObject({ ok: false, reason: 'bad_credentials' });
    expect(await connect(token, 'dev-2')).toMatchObject({ ok: false, reason: 'not_authorized' });
    expect((await connect(token, 'dev-1')).ok).toBe(true);
  });

  it("maps the will claim to the principal's willOnEnd: publish when present, suppress by default", async () => {
    const publish = await sign({ pub: [], sub: [] }, { jti: 'tok_000000000000000000000005', will: 'publish' });
    const plain = await sign({ pub: [], sub: [] }, { jti: 'tok_000000000000000000000006' });
    expect((await principal(publish)).willOnEnd).toBe('publish');
    expect((await principal(plain)).willOnEnd).toBe('suppress');
  });

  it('refuses a well-signed token living longer than the maximum TTL', async () => {
    const key = await generateSigningKey();
    const keys = new PublicKeyCache(async () => [key.publicJwk]);
    await keys.refresh();
    const capped = new TokenAuthenticator({ keys, revoked, maxTokenLifetimeSeconds: 3600 });
    const claims = { sub: 'alice', org, jti: 'tok_000000000000000000000007', iat: now, perm: { pub: [], sub: [] } };
    const attempt = async (exp: number) =>
      capped.authenticate({ username: `alice@${org}`, password: Buffer.from(await signAccessToken({ ...claims, exp }, key)), clientId: 'c1', remoteAddress: '127.0.0.1', protocolVersion: 5 });
    expect(await attempt(now + 100 * 365 * 86400)).toMatchObject({ ok: false, reason: 'bad_credentials', detail: 'token invalid_claims' });
    expect(await attempt(now + 3600)).toMatchObject({ ok: true });
  });
});
