import { DenyList, InMemoryRevocationBus, type RevocationEvent } from '@signet/revocation';

import { EdgeRevocationSubscriber } from './revocation-subscriber';

const T0 = Date.now();

function event(seq: number, credentialIds: string[], reason = 'token_revoked'): RevocationEvent {
  return { seq, credentialIds, until: T0 + 60_000, reason, at: T0 - 5 };
}

describe('EdgeRevocationSubscriber', () => {
  let bus: InMemoryRevocationBus;
  let denyList: DenyList;
  let live: Set<string>;
  let invalidated: string[];
  let counted: string[];
  let observed: number[];
  let logged: Record<string, unknown>[];
  let subscriber: EdgeRevocationSubscriber;

  beforeEach(async () => {
    bus = new InMemoryRevocationBus();
    await bus.start();
    denyList = new DenyList();
    live = new Set(['tok_live', 'key_live']);
    invalidated = [];
    counted = [];
    observed = [];
    logged = [];
    subscriber = new EdgeRevocationSubscriber({
      bus,
      denyList,
      sessions: {
        revoke: (ids) => ids.filter((id) => live.delete(id)).length,
      },
      verdictCaches: [{ invalidate: (ids) => invalidated.push(...ids) }],
      metrics: {
        revocations: { inc: ({ reason }) => counted.push(reason) },
        revokeToDisconnect: { observe: (seconds) => observed.push(seconds) },
      },
      logger: { info: (fields) => logged.push(fields) },
      now: () => T0,
    });
  });
  afterEach(async () => {
    denyList.close();
    await bus.close();
  });

  it('denies, forgets cached verdicts, closes live sessions and counts, for every credential kind', async () => {
    const disconnect = subscriber.connect();
    await bus.publish(event(1, ['tok_live', 'tok_gone']));
    await bus.publish(event(2, ['key_live'], 'api_key_revoked'));

    expect(denyList.has('tok_live') && denyList.has('tok_gone') && denyList.has('key_live')).toBe(true);
    expect(invalidated).toEqual(['tok_live', 'tok_gone', 'key_live']);
    expect(live.size).toBe(0);
    expect(counted).toEqual(['token_revoked', 'api_key_revoked']);
    expect(observed).toEqual([0.005, 0.005]);
    expect(logged).toEqual([
      { seq: 1, reason: 'token_revoked', sessions: 1 },
      { seq: 2, reason: 'api_key_revoked', sessions: 1 },
    ]);
    disconnect();
  });

  it('gets the revocations in force replayed on connect, and nothing after disconnecting', async () => {
    await bus.publish(event(1, ['tok_live']));
    const disconnect = subscriber.connect();
    expect(denyList.has('tok_live')).toBe(true);
    expect(live.has('tok_live')).toBe(false);

    disconnect();
    await bus.publish(event(2, ['key_live']));
    expect(denyList.has('key_live')).toBe(false);
    expect(live.has('key_live')).toBe(true);
  });

  it('observes the revoke-to-disconnect time only when sessions were closed', () => {
    subscriber.onRevocation(event(1, ['tok_nobody']));
    expect(counted).toEqual(['token_revoked']);
    expect(observed).toEqual([]);
    expect(logged).toEqual([]);
  });
});
