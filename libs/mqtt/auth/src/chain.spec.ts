import type { WebhookAuthorizer, WebhookConnectRequest, WebhookVerdict } from '@signet/contracts';
import type { AuthResult, ConnectRequest } from '@signet/mqtt-edge';

import { AuthenticatorChain, type ChainDecision, type ChainStep, type ChainStepName, credentialStep, FailedConnectThrottle, isApiKeyPassword, isTokenPassword, NOT_MINE } from './chain';
import { WebhookStep, webhookCredentialId } from './webhook-step';

const ORG = 'org_aaaaaaaaaaaa';
const req = (password: string, username = `dev@${ORG}`, clientId = 'c1'): ConnectRequest => ({
  username,
  password: Buffer.from(password),
  clientId,
  remoteAddress: '127.0.0.1',
  protocolVersion: 5,
});
const allow = (subject: string): AuthResult => ({
  ok: true,
  principal: { credentialId: subject, kind: 'token', orgId: ORG, subject, expiresAt: Infinity, permissions: undefined as never },
});

/** A step that answers by a fixed rule, counting its calls. */
function step(name: ChainStepName, answer: (r: ConnectRequest) => AuthResult | typeof NOT_MINE): ChainStep & { calls: number } {
  const s = { name, calls: 0, decide: (r: ConnectRequest) => (s.calls++, answer(r)) };
  return s;
}

describe('AuthenticatorChain', () => {
  it('the default chain: token, then api key; other passwords reach the end of the chain, which denies', async () => {
    const token = { authenticate: () => allow('t') };
    const key = { authenticate: () => allow('k') };
    const decisions: ChainDecision[] = [];
    const chain = new AuthenticatorChain({
      steps: [credentialStep('token', token, isTokenPassword), credentialStep('api_key', key, isApiKeyPassword)],
      decided: (d) => decisions.push(d),
    });
    expect(await chain.authenticate(req('tkn_abc'))).toEqual(allow('t'));
    expect(await chain.authenticate(req('sk_abcdef'))).toEqual(allow('k'));
    expect(await chain.authenticate(req('rk_abcdef'))).toEqual(allow('k'));
    expect(await chain.authenticate(req('hunter2'))).toMatchObject({ ok: false, reason: 'bad_credentials' });
    expect(decisions.map((d) => d.step)).toEqual(['token', 'api_key', 'api_key', 'end_of_chain']);
  });

  it("runs the org's steps in its order; the first allow or deny decides; not-mine passes on", async () => {
    const a = step('webhook', (r) => (r.clientId === 'mine' ? allow('w') : NOT_MINE));
    const b = step('token', (r) => (r.clientId === 'deny' ? { ok: false, reason: 'bad_credentials' } : allow('t')));
    const chain = new AuthenticatorChain({ steps: [a, b], source: { chainFor: async () => ['webhook', 'token'] } });
    expect(await chain.authenticate(req('x', undefined, 'mine'))).toEqual(allow('w'));
    expect(b.calls).toBe(0);
    expect(await chain.authenticate(req('x', undefined, 'other'))).toEqual(allow('t'));
    expect(await chain.authenticate(req('x', undefined, 'deny'))).toMatchObject({ ok: false });
  });

  it('reads an org chain once per cache period, and again after invalidate', async () => {
    let reads = 0;
    let steps: ChainStepName[] = ['token'];
    const t = step('token', () => allow('t'));
    const w = step('webhook', () => allow('w'));
    const chain = new AuthenticatorChain({ steps: [t, w], source: { chainFor: async () => (reads++, steps) } });
    for (let i = 0; i < 5; i++) await chain.authenticate(req('x'));
    expect(reads).toBe(1);
    steps = ['webhook'];
    chain.invalidate([ORG]);
    await expect(chain.authenticate(req('x'))).resolves.toEqual(allow('w'));
    expect(reads).toBe(2);
  });

  it('a source that fails: the default steps answer, 0x88 where they pass (and it says so)', async () => {
    const failed: string[] = [];
    const t = step('token', (r) => (r.password?.toString() === 'tkn_ok' ? allow('t') : NOT_MINE));
    const chain = new AuthenticatorChain({ steps: [t], source: { chainFor: () => Promise.reject(new Error('down')) }, sourceFailed: (org) => failed.push(org) });
    expect(await chain.authenticate(req('tkn_ok'))).toEqual(allow('t'));
    expect(await chain.authenticate(req('whatever'))).toMatchObject({ ok: false, reason: 'server_unavailable' });
    expect(failed).toEqual([ORG, ORG]);
  });

  it('reserved steps without an implementation are skipped', async () => {
    const t = step('token', () => allow('t'));
    const chain = new AuthenticatorChain({ steps: [t], source: { chainFor: async () => ['client_certificate', 'token'] } });
    await expect(chain.chainOf(ORG)).resolves.toEqual(['token']);
  });
});

/** An authorizer of our own interface, answering from a script. */
class ScriptedAuthorizer implements WebhookAuthorizer {
  calls: WebhookConnectRequest[] = [];
  constructor(public next: (r: WebhookConnectRequest) => WebhookVerdict | Promise<WebhookVerdict>) {}
  async authorizeConnect(r: WebhookConnectRequest): Promise<WebhookVerdict> {
    this.calls.push(r);
    return this.next(r);
  }
  async chainFor(): Promise<string[] | null> {
    return null;
  }
}

describe('WebhookStep', () => {
  let now = 1_000_000;
  const clock = () => now;
  const allowAnswer: WebhookVerdict = { result: 'allow', permissions: { publish: ['devices/{client_id}/#'], subscribe: [] }, expiresAt: null, cacheSeconds: 60 };

  it('allow: a webhook principal with the grants filled in; cached by a hash, not the password', async () => {
    const auth = new ScriptedAuthorizer(() => allowAnswer);
    const s = new WebhookStep({ authorizer: auth, edgeId: 'e', now: clock });
    const r = (await s.decide(req('pw'), ORG)) as AuthResult;
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.principal).toMatchObject({ kind: 'webhook', orgId: ORG, subject: 'dev', credentialId: webhookCredentialId(ORG, 'dev') });
    expect(r.principal.permissions.canPublish('devices/c1/t')).toBe(true);
    expect(r.principal.permissions.canPublish('devices/c2/t')).toBe(false);
    await s.decide(req('pw'), ORG);
    expect(auth.calls).toHaveLength(1);
    // Another password is another cache entry.
    await s.decide(req('pw2'), ORG);
    expect(auth.calls).toHaveLength(2);
  });

  it('allows expire from the cache after cache_seconds; denies after the short deny cap', async () => {
    const auth = new ScriptedAuthorizer(() => allowAnswer);
    const s = new WebhookStep({ authorizer: auth, edgeId: 'e', now: clock, maxDenyCacheMs: 1000 });
    await s.decide(req('pw'), ORG);
    now += 61_000;
    await s.decide(req('pw'), ORG);
    expect(auth.calls).toHaveLength(2);
    auth.next = () => ({ result: 'deny', cacheSeconds: 3600 });
    await expect(s.decide(req('bad'), ORG)).resolves.toMatchObject({ ok: false, reason: 'bad_credentials' });
    await s.decide(req('bad'), ORG);
    expect(auth.calls).toHaveLength(3);
    now += 1001;
    await s.decide(req('bad'), ORG);
    expect(auth.calls).toHaveLength(4);
  });

  it('a revocation naming the org or the user purges; unavailable is 0x88 (server_unavailable) or not-mine by fail mode', async () => {
    const auth = new ScriptedAuthorizer(() => allowAnswer);
    const s = new WebhookStep({ authorizer: auth, edgeId: 'e', now: clock });
    await s.decide(req('pw'), ORG);
    s.invalidate([webhookCredentialId(ORG, 'dev')]);
    expect(s.size).toBe(0);
    await s.decide(req('pw'), ORG);
    s.invalidate([ORG]);
    expect(s.size).toBe(0);
    auth.next = () => ({ result: 'unavailable', failMode: 'deny', detail: 'timeout' });
    await expect(s.decide(req('pw'), ORG)).resolves.toMatchObject({ ok: false, reason: 'server_unavailable' });
    auth.next = () => ({ result: 'unavailable', failMode: 'ignore', detail: 'timeout' });
    await expect(s.decide(req('pw'), ORG)).resolves.toBe(NOT_MINE);
    auth.next = () => Promise.reject(new Error('grpc down'));
    await expect(s.decide(req('pw'), ORG)).resolves.toMatchObject({ ok: false, reason: 'server_unavailable' });
  });

  it('expire_at bounds the principal and the cache', async () => {
    const auth = new ScriptedAuthorizer(() => ({ ...allowAnswer, expiresAt: now + 5000, cacheSeconds: 600 }));
    const s = new WebhookStep({ authorizer: auth, edgeId: 'e', now: clock });
    const r = (await s.decide(req('pw'), ORG)) as AuthResult;
    expect(r.ok && r.principal.expiresAt).toBe(now + 5000);
    now += 5001;
    await s.decide(req('pw'), ORG);
    expect(auth.calls).toHaveLength(2);
  });
});

describe('FailedConnectThrottle in the chain (every credential kind)', () => {
  let now = 0;
  const build = () => {
    const keyCalls: string[] = [];
    const token = step('token', (r) => (r.password?.toString() === 'tkn_valid' ? allow('t') : { ok: false, reason: 'bad_credentials' }));
    const webhook = step('webhook', (r) => (keyCalls.push(r.password!.toString()), r.password?.toString() === 'right' ? allow('w') : { ok: false, reason: 'bad_credentials' }));
    const chain = new AuthenticatorChain({
      steps: [
        credentialStep('token', { authenticate: (r) => token.decide(r, ORG) as AuthResult }, isTokenPassword, true),
        webhook,
      ],
      source: { chainFor: async () => ['token', 'webhook'] },
      throttle: new FailedConnectThrottle({ maxFailures: 3, windowMs: 60_000, now: () => now }),
    });
    return { chain, keyCalls };
  };
  const from = (password: string, address: string) => ({ ...req(password), remoteAddress: address });

  it('after maxFailures from an address, its guesses are refused (0x88) without asking the remote step', async () => {
    const { chain, keyCalls } = build();
    for (let i = 0; i < 3; i++) expect(await chain.authenticate(from(`guess${i}`, '198.51.100.1'))).toMatchObject({ reason: 'bad_credentials' });
    expect(keyCalls).toHaveLength(3);
    expect(await chain.authenticate(from('guess4', '198.51.100.1'))).toMatchObject({ ok: false, reason: 'server_unavailable' });
    expect(keyCalls).toHaveLength(3);
    // Forged tkn_ count the same.
    expect(await chain.authenticate(from('tkn_forged', '198.51.100.1'))).toMatchObject({ ok: false, reason: 'server_unavailable' });
    // Other addresses are not affected.
    expect(await chain.authenticate(from('right', '198.51.100.2'))).toMatchObject({ ok: true });
    // The window ends.
    now += 60_000;
    expect(await chain.authenticate(from('right', '198.51.100.1'))).toMatchObject({ ok: true });
  });

  it('does not lock out a victim behind the same address: known-good credentials and valid tokens still connect', async () => {
    const { chain, keyCalls } = build();
    expect(await chain.authenticate(from('right', '198.51.100.9'))).toMatchObject({ ok: true });
    for (let i = 0; i < 5; i++) await chain.authenticate(from(`guess${i}`, '198.51.100.9'));
    // Throttled: a new guess does not reach the webhook...
    const calls = keyCalls.length;
    expect(await chain.authenticate(from('guess-new', '198.51.100.9'))).toMatchObject({ reason: 'server_unavailable' });
    expect(keyCalls.length).toBe(calls);
    // ...but the credential accepted before still connects.
    expect(await chain.authenticate(from('right', '198.51.100.9'))).toMatchObject({ ok: true });
    expect(await chain.authenticate(from('tkn_valid', '198.51.100.9'))).toMatchObject({ ok: true });
  });
});
