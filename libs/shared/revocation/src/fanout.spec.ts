import { RevocationFanout } from './fanout';
import type { RevocationEvent, RevocationLogger } from './types';

const quiet: RevocationLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

const UNTIL = Date.now() + 60_000;

function event(seq: number, ids: string[], until = UNTIL): RevocationEvent {
  return { seq, credentialIds: ids, until, reason: 'token_revoked', at: Date.now() };
}

describe('RevocationFanout', () => {
  it('replays active events to late handlers synchronously and skips exact repeats', () => {
    const fanout = new RevocationFanout(quiet);
    const early: number[] = [];
    fanout.subscribe((e) => early.push(e.seq));
    expect(fanout.deliver(event(1, ['tok_a']))).toBe(true);
    expect(fanout.deliver(event(1, ['tok_a']))).toBe(false);
    // Same seq but different content is not trusted as a duplicate.
    expect(fanout.deliver(event(1, ['tok_b']))).toBe(true);
    fanout.deliver(event(2, ['tok_c'], Date.now() - 1)); // expired: delivered, not retained
    const late: number[] = [];
    fanout.subscribe((e) => late.push(e.seq));
    expect(early).toEqual([1, 1, 2]);
    expect(late).toEqual([1, 1]);
    fanout.close();
  });

  it('isolates a throwing handler', () => {
    const errors: string[] = [];
    const fanout = new RevocationFanout({ ...quiet, error: (_f, msg) => errors.push(msg) });
    const seen: number[] = [];
    fanout.subscribe(() => {
      throw new Error('boom');
    });
    fanout.subscribe((e) => seen.push(e.seq));
    fanout.deliver(event(7, ['tok_a']));
    expect(seen).toEqual([7]);
    expect(errors).toHaveLength(1);
    fanout.close();
  });
});
