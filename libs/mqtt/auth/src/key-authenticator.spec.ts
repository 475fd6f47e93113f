import type { ApiKeyVerification, ApiKeyVerifier, UsageDelta, VerifiedApiKey } from '@signet/contracts';
import { newApiKey } from '@signet/credentials';
import type { AuthResult } from '@signet/mqtt-edge';

import { KeyAuthenticator } from './key-authenticator';

const ORG = 'org_aaaaaaaaaaaa';
const T0 = 1_700_000_000_000;

/** The key service, answering from a table of keys (our own ApiKeyVerifier interface). */
class FakeKeyService implements ApiKeyVerifier {
  readonly keys = new Map<string, VerifiedApiKey>();
  calls = 0;
  cacheTtlMs = 60_000;
  /** While set, verifications wait for it (to let a revocation land mid-flight). */
  gate: Promise<void> | null = null;
  /** While set, every verification is refused this way, as the key service does when it throttles or sheds. */
  refusal: ApiKeyVerification | null = null;

  add(name: string, expiresAt: number | null = null): string {
    const { key, keyId } = newApiKey('secret');
    this.keys.set(key, { keyId, orgId: ORG, name, type: 'secret', scopes: [], ipAllowlist: [], expiresAt });
    return key;
  }

  async verifyApiKey(key: string): Promise<ApiKeyVerification> {
    this.calls++;
    if (this.gate) await this.gate;
    if (this.refusal) return this.refusal;
    const found = this.keys.get(key);
    return found ? { status: 'valid', key: found, cacheTtlMs: this.cacheTtlMs } : { status: 'invalid', cacheTtlMs: this.cacheTtlMs };
  }

  async reportUsage(_deltas: UsageDelta[]): Promise<void> {}
}

describe('KeyAuthenticator verdict cache', () => {
  let now: number;
  let service: FakeKeyService;
  let revoked: Set<string>;
  let auth: KeyAuthenticator;

  beforeEach(() => {
    now = T0;
    service = new FakeKeyService();
    revoked = new Set();
    auth = new KeyAuthenticator({ verifier: service, revoked, maxCacheMs: 30_000, cacheSize: 2, now: () => now });
  });

  const connect = (name: string, key: string): Promise<AuthResult> =>
    Promise.resolve(auth.authenticate({ username: `${name}@${ORG}`, password: Buffer.from(key), clientId: 'c1', remoteAddress: '127.0.0.1', protocolVersion: 5 }));
  const keyIdOf = (key: string) => service.keys.get(key)!.keyId;

  it('asks the key service once per key per cache period, capped by maxCacheMs', async () => {
    const key = service.add('svc');
    expect((await connect('svc', key)).ok).toBe(true);
    now = T0 + 29_999;
    expect((await connect('svc', key)).ok).toBe(true);
    expect(service.calls).toBe(1);
    expect(auth.stats).toEqual({ verifierCalls: 1, cacheHits: 1 });
    now = T0 + 30_001;
    expect((await connect('svc', key)).ok).toBe(true);
    expect(service.calls).toBe(2);
  });

  it('caches a verdict no longer than the key lives, and not at all for a TTL of 0', async () => {
    const key = service.add('svc', T0 + 1000);
    await connect('svc', key);
    now = T0 + 1001;
    expect(await connect('svc', key)).toMatchObject({ ok: false, detail: 'key expired' });
    expect(service.calls).toBe(2);

    service.cacheTtlMs = 0;
    const other = service.add('other');
    await connect('other', other);
    await connect('other', other);
    expect(service.calls).toBe(4);
  });

  it('caches an invalid verdict too', async () => {
    const { key } = newApiKey('secret');
    expect(await connect('svc', key)).toMatchObject({ ok: false, reason: 'bad_credentials' });
    expect(await connect('svc', key)).toMatchObject({ ok: false, reason: 'bad_credentials' });
    expect(service.calls).toBe(1);
  });

  it('keeps at most cacheSize verdicts', async () => {
    const keys = ['a', 'b', 'c'].map((name) => [name, service.add(name)] as const);
    for (const [name, key] of keys) await connect(name, key);
    expect(auth.size).toBe(2);
    // The least recently used one went.
    await connect('a', keys[0][1]);
    expect(service.calls).toBe(4);
  });

  it('drops every verdict of a revoked key at once', async () => {
    const key = service.add('svc');
    await connect('svc', key);
    auth.invalidate([keyIdOf(key)]);
    expect(auth.size).toBe(0);
    await connect('svc', key);
    expect(service.calls).toBe(2);
  });

  it('does not cache an answer given before a revocation that landed meanwhile', async () => {
    const key = service.add('svc');
    let open: () => void = () => undefined;
    service.gate = new Promise((resolve) => (open = resolve));
    const pending = connect('svc', key);
    await Promise.resolve();
    auth.invalidate([keyIdOf(key)]);
    open();
    service.gate = null;
    await pending;
    expect(auth.size).toBe(0);
  });

  it('answers a shed check as server busy and a throttled one as server unavailable, caching neither', async () => {
    const key = service.add('svc');
    service.refusal = { status: 'throttled', retryAfterMs: 1000, overloaded: true };
    expect(await connect('svc', key)).toMatchObject({ ok: false, reason: 'server_busy' });
    service.refusal = { status: 'throttled', retryAfterMs: 1000 };
    expect(await connect('svc', key)).toMatchObject({ ok: false, reason: 'server_unavailable' });
    service.refusal = null;
    expect((await connect('svc', key)).ok).toBe(true);
    expect(service.calls).toBe(3);
  });

  it('refuses a key on the deny list without asking', async () => {
    const key = service.add('svc');
    revoked.add(keyIdOf(key));
    expect(await connect('svc', key)).toMatchObject({ ok: false, reason: 'bad_credentials', detail: 'key revoked' });
    expect(service.calls).toBe(0);
  });
});
