import type { ThrottleOptions } from '../../options';

interface Window {
  count: number;
  resetAt: number;
  /** Key windows: attempts let through past the budget because their address never failed. */
  cleanPasses: number;
}

/**
 * Throttles key guessing per source address and per key id, in memory.
 *
 * - An address with `ipFailures` failed attempts in the window is refused
 *   until the window ends.
 * - A key id with `keyFailures` failed attempts in the window is refused to
 *   every address that has itself failed in its window. An address that never
 *   failed may still try, so one attacker address cannot lock the holder out,
 *   but only `keyFailures` more times per window for all such addresses
 *   together: the bcrypt work spent on one key id is at most 2 × keyFailures
 *   per window however many addresses guess it.
 * - The caller lets a presented key whose digest is already known to be
 *   valid pass both (see ApiKeysService): the holder of a key this process
 *   has verified is never throttled, even behind the attacker's address. A
 *   holder it never verified waits at most the window while its key id is
 *   being guessed.
 */
export class GuessThrottle {
  private readonly byIp = new Map<string, Window>();
  private readonly byKey = new Map<string, Window>();

  constructor(
    private readonly options: ThrottleOptions,
    private readonly maxEntries = 100_000,
  ) {}

  /** 0 when an attempt may go ahead, else how long to wait (ms). */
  retryAfter(ip: string | undefined, keyId: string | null, now: number): number {
    const ipWindow = ip === undefined ? undefined : this.live(this.byIp, ip, now);
    if (ipWindow && ipWindow.count >= this.options.ipFailures) return ipWindow.resetAt - now;
    const keyWindow = keyId === null ? undefined : this.live(this.byKey, keyId, now);
    if (keyWindow && keyWindow.count >= this.options.keyFailures) {
      const suspicious = ip === undefined || ipWindow !== undefined;
      if (suspicious || keyWindow.cleanPasses >= this.options.keyFailures) return keyWindow.resetAt - now;
      keyWindow.cleanPasses++;
    }
    return 0;
  }

  fail(ip: string | undefined, keyId: string | null, now: number): void {
    if (ip !== undefined) this.bump(this.byIp, ip, now);
    if (keyId !== null) this.bump(this.byKey, keyId, now);
  }

  private live(map: Map<string, Window>, id: string, now: number): Window | undefined {
    const w = map.get(id);
    if (w && w.resetAt <= now) {
      map.delete(id);
      return undefined;
    }
    return w;
  }

  private bump(map: Map<string, Window>, id: string, now: number): void {
    const w = this.live(map, id, now);
    if (w) {
      w.count++;
      return;
    }
    if (map.size >= this.maxEntries) {
      // Bounded memory under a distributed attack: forget the oldest window.
      const oldest = map.keys().next();
      if (!oldest.done) map.delete(oldest.value);
    }
    map.set(id, { count: 1, resetAt: now + this.options.windowMs, cleanPasses: 0 });
  }
}
