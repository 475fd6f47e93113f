import { DenyList } from './deny-list';
import { ExpiringMap } from './expiring-map';
import type { RevocationEvent } from './types';

const T0 = 1_700_000_000_000;

function event(seq: number, credentialIds: string[], until: number): RevocationEvent {
  return { seq, credentialIds, until, reason: 'token_revoked', at: T0 };
}

describe('DenyList', () => {
  let now: number;
  let list: DenyList;

  beforeEach(() => {
    now = T0;
    list = new DenyList({ now: () => now, graceMs: 0 });
  });
  afterEach(() => list.close());

  it('denies every listed credential until `until`, then forgets it', () => {
    expect(list.add(event(1, ['tok_a', 'tok_b'], T0 + 1000))).toEqual(['tok_a', 'tok_b']);
    expect(list.has('tok_a')).toBe(true);
    expect(list.has('tok_b')).toBe(true);
    expect(list.has('tok_c')).toBe(false);
    expect(list.size).toBe(2);

    now = T0 + 1000;
    expect(list.has('tok_a')).toBe(false); // checked on lookup, not only by the prune timer
    expect(list.size).toBe(0);
  });

  it('is idempotent and never shortens an entry', () => {
    list.add(event(1, ['tok_a'], T0 + 5000));
    expect(list.add(event(1, ['tok_a'], T0 + 5000))).toEqual([]);
    expect(list.add(event(0, ['tok_a'], T0 + 1000))).toEqual([]); // older, shorter replay
    now = T0 + 2000;
    expect(list.has('tok_a')).toBe(true);
    list.add(event(2, ['tok_a'], T0 + 9000)); // later event extends
    now = T0 + 6000;
    expect(list.has('tok_a')).toBe(true);
    now = T0 + 9000;
    expect(list.has('tok_a')).toBe(false);
  });

  it('ignores events that have already expired', () => {
    expect(list.add(event(1, ['tok_old'], T0 - 1))).toEqual([]);
    expect(list.has('tok_old')).toBe(false);
    expect(list.size).toBe(0);
  });

  it('keeps entries for the grace period past `until`', () => {
    const graceful = new DenyList({ now: () => now, graceMs: 60_000 });
    graceful.add(event(1, ['tok_a'], T0 + 1000));
    now = T0 + 30_000;
    expect(graceful.has('tok_a')).toBe(true);
    now = T0 + 61_000;
    expect(graceful.has('tok_a')).toBe(false);
    graceful.close();
  });

  it('prunes expired entries in expiry order and reports how many', () => {
    for (let i = 0; i < 100; i++) list.add(event(i, [`tok_${i}`], T0 + 1000 + ((i * 37) % 100) * 10));
    now = T0 + 1000 + 500;
    const expired = Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) * 10).filter((offset) => offset <= 500).length;
    const dropped = list.prune();
    expect(dropped).toBe(expired);
    expect(list.size).toBe(100 - expired);
    for (let i = 0; i < 100; i++) expect(list.has(`tok_${i}`)).toBe(((i * 37) % 100) * 10 > 500);
  });

  it('prunes on its own with one unref-ed timer', async () => {
    jest.useFakeTimers({ now: T0 });
    try {
      const timed = new DenyList({ graceMs: 0 });
      timed.add(event(1, ['tok_a'], T0 + 1500));
      timed.add(event(2, ['tok_b'], T0 + 1600));
      timed.add(event(3, ['tok_c'], T0 + 60_000));
      expect(jest.getTimerCount()).toBe(1);
      jest.advanceTimersByTime(2000);
      // Internal map shrank without any lookup.
      expect(timed.size).toBe(1);
      expect(jest.getTimerCount()).toBe(1); // rescheduled for tok_c
      timed.clear();
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('ExpiringMap', () => {
  it('keeps its heap bounded when keys are re-set many times', () => {
    let now = T0;
    const map = new ExpiringMap<string, number>({ now: () => now });
    for (let i = 0; i < 10_000; i++) map.set('k', i, T0 + 1000 + i);
    expect(map.get('k')).toBe(9999);
    now = T0 + 5000;
    map.prune();
    expect(map.get('k')).toBe(9999);
    now = T0 + 20_000;
    expect(map.size).toBe(0);
    map.close();
  });
});
