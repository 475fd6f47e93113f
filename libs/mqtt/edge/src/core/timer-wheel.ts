/** Something with one pending deadline. `wheelSlot` is owned by the wheel (-1: not scheduled). */
export interface Timed {
  wheelSlot: number;
  onTimer(now: number): void;
}

/**
 * One shared, coarse timer for every connection and session, instead of a
 * setTimeout per connection (a Timeout object costs ~100+ bytes and a heap
 * operation per reschedule). Deadlines are rounded up to the next slot of
 * `resolutionMs`, so an item never fires early and fires at most one
 * resolution late. Items whose deadline moves often (keepalive) should not
 * reschedule on every packet: let them fire, re-check, and reschedule then.
 */
export class TimerWheel {
  private readonly slots = new Map<number, Set<Timed>>();
  private cursor: number;

  constructor(
    private readonly resolutionMs: number,
    now: number,
  ) {
    this.cursor = Math.floor(now / resolutionMs);
  }

  get size(): number {
    let n = 0;
    for (const s of this.slots.values()) n += s.size;
    return n;
  }

  schedule(item: Timed, at: number): void {
    if (at === Infinity) {
      this.cancel(item);
      return;
    }
    let slot = Math.ceil(at / this.resolutionMs);
    if (slot <= this.cursor) slot = this.cursor + 1;
    if (item.wheelSlot === slot) return;
    this.cancel(item);
    let set = this.slots.get(slot);
    if (!set) {
      set = new Set();
      this.slots.set(slot, set);
    }
    set.add(item);
    item.wheelSlot = slot;
  }

  cancel(item: Timed): void {
    const slot = item.wheelSlot;
    if (slot < 0) return;
    item.wheelSlot = -1;
    const set = this.slots.get(slot);
    if (!set) return;
    set.delete(item);
    if (set.size === 0) this.slots.delete(slot);
  }

  /** Fires every item whose slot is due. Items may reschedule themselves from onTimer. */
  advance(now: number, onError: (err: unknown) => void): void {
    const target = Math.floor(now / this.resolutionMs);
    if (target <= this.cursor) return;
    const from = this.cursor + 1;
    // Set first: items rescheduled while firing land in a future slot.
    this.cursor = target;
    if (target - from > this.slots.size) {
      // A long gap (clock jump, stalled loop): visit occupied slots, not every empty one.
      const due = [...this.slots.keys()].filter((s) => s <= target).sort((a, b) => a - b);
      for (const s of due) this.fire(s, now, onError);
    } else {
      for (let s = from; s <= target; s++) this.fire(s, now, onError);
    }
  }

  private fire(slot: number, now: number, onError: (err: unknown) => void): void {
    const set = this.slots.get(slot);
    if (!set) return;
    this.slots.delete(slot);
    for (const item of set) {
      if (item.wheelSlot !== slot) continue;
      item.wheelSlot = -1;
      try {
        item.onTimer(now);
      } catch (err) {
        onError(err);
      }
    }
  }
}
