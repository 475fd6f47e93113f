import type { AuditEventInput } from './audit-event';
import { type ConnectDecision, ConnectAuditSampler } from './connect-sampler';

const refused = (address: string, over: Partial<ConnectDecision> = {}): ConnectDecision => ({
  orgId: 'org_aaaaaaaaaaaa',
  username: 'mallory@org_aaaaaaaaaaaa',
  clientId: 'c',
  address,
  protocolVersion: 5,
  step: 'token',
  ok: false,
  reason: 'bad_credentials',
  connack: 0x86,
  durationMs: 2,
  ...over,
});

describe('ConnectAuditSampler', () => {
  let now = 0;
  let emitted: AuditEventInput[];
  let sampler: ConnectAuditSampler;
  const make = (maxKeys?: number) =>
    new ConnectAuditSampler({ edgeId: 'edge-1', perAddress: 3, windowMs: 1000, emit: (e) => emitted.push(e), now: () => now, ...(maxKeys ? { maxKeys } : {}) });

  beforeEach(() => {
    now = 0;
    emitted = [];
    sampler = make();
  });
  afterEach(() => sampler.close());

  const total = () => emitted.reduce((n, e) => n + Number(e.details?.['count'] ?? 1), 0);

  it('records the first decisions of an address one by one, then one row with the count when the window ends', () => {
    for (let i = 0; i < 1000; i++) sampler.record(refused('198.51.100.1'));
    expect(emitted).toHaveLength(3);
    now = 1000;
    sampler.record(refused('198.51.100.1'));
    // The window's aggregate, then the first decision of the next window.
    expect(emitted).toHaveLength(5);
    expect(emitted[3]).toMatchObject({ type: 'auth', action: 'mqtt.connect', outcome: 'failure', reasonCode: 'bad_credentials', address: '198.51.100.1', edgeId: 'edge-1', details: { count: 997, connack: 0x86 } });
    sampler.close();
    expect(total()).toBe(1001);
  });

  it('keeps addresses and outcomes apart, and names the credential of an allowed CONNECT', () => {
    for (let i = 0; i < 5; i++) sampler.record(refused('198.51.100.1'));
    for (let i = 0; i < 5; i++) sampler.record(refused('198.51.100.2'));
    sampler.record(refused('198.51.100.1', { ok: true, reason: 'success', connack: 0, credentialKind: 'token', credentialId: 'tok_1', subject: 'alice' }));
    expect(emitted.filter((e) => e.address === '198.51.100.1' && e.outcome === 'failure')).toHaveLength(3);
    expect(emitted.filter((e) => e.address === '198.51.100.2')).toHaveLength(3);
    expect(emitted[emitted.length - 1]).toMatchObject({ outcome: 'success', actor: { kind: 'token', id: 'alice' }, target: 'tok_1', reasonCode: 'success' });
    sampler.flush();
    expect(total()).toBe(11);
  });

  it('bounds its memory: past maxKeys new addresses are dropped, not tracked', () => {
    sampler.close();
    sampler = make(10);
    for (let i = 0; i < 100; i++) sampler.record(refused(`10.0.0.${i}`));
    expect(emitted).toHaveLength(10);
  });

  it('takes the user from the username and cuts what an attacker controls', () => {
    sampler.record(refused('198.51.100.9', { username: `${'u'.repeat(1000)}@org_aaaaaaaaaaaa`, clientId: 'c'.repeat(70000) }));
    expect((emitted[0]!.actor.id ?? '').length).toBe(256);
    expect(String(emitted[0]!.details?.['client_id']).length).toBe(256);
  });
});
