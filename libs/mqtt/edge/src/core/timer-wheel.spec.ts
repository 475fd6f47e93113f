import { TimerWheel, type Timed } from './timer-wheel';

class Item implements Timed {
  wheelSlot = -1;
  firedAt: number[] = [];
  onTimer(now: number): void {
    this.firedAt.push(now);
  }
}

describe('TimerWheel', () => {
  const noError = (err: unknown): void => {
    throw err;
  };

  it('never fires early and at most one resolution late', () => {
    const w = new TimerWheel(100, 0);
    const a = new Item();
    const b = new Item();
    w.schedule(a, 250);
    w.schedule(b, 300);
    for (let now = 0; now <= 500; now += 10) w.advance(now, noError);
    expect(a.firedAt).toEqual([300]);
    expect(b.firedAt).toEqual([300]);
  });

  it('cancels and reschedules; an item is in at most one slot', () => {
    const w = new TimerWheel(100, 0);
    const a = new Item();
    w.schedule(a, 200);
    w.schedule(a, 900);
    expect(w.size).toBe(1);
    w.advance(500, noError);
    expect(a.firedAt).toEqual([]);
    w.cancel(a);
    w.advance(2000, noError);
    expect(a.firedAt).toEqual([]);
    expect(w.size).toBe(0);
  });

  it('handles a large clock jump by visiting only occupied slots', () => {
    const w = new TimerWheel(10, 0);
    const a = new Item();
    w.schedule(a, 50);
    w.advance(1e12, noError);
    expect(a.firedAt).toEqual([1e12]);
  });
});
