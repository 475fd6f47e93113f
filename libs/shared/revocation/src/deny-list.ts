import { ExpiringMap } from './expiring-map';
import type { RevocationEvent } from './types';

export interface DenyListOptions {
  now?: () => number;
  /**
   * Keep entries this long past `until` (default 60 s). `until` is when the
   * listed credentials expire on the token service's clock; the margin covers
   * an edge whose clock runs behind.
   */
  graceMs?: number;
}

/**
 * The set of revoked credential ids an edge checks on every CONNECT (and when
 * deciding whether to close a live session). `has` is one Map lookup.
 * Adding the same event twice is harmless, so bus replays need no dedupe here.
 */
export class DenyList {
  private readonly entries: ExpiringMap<string, true>;
  private readonly now: () => number;
  private readonly graceMs: number;

  constructor(options: DenyListOptions = {}) {
    this.now = options.now ?? Date.now;
    this.graceMs = options.graceMs ?? 60_000;
    this.entries = new ExpiringMap<string, true>({ now: this.now });
  }

  /**
   * Denies the event's credentials until `until` (+ grace). Returns the ids
   * that were not denied before, e.g. to close their live sessions.
   */
  add(event: Pick<RevocationEvent, 'credentialIds' | 'until'>): string[] {
    const expiresAt = event.until + this.graceMs;
    if (!(expiresAt > this.now())) return [];
    const added: string[] = [];
    for (const id of event.credentialIds) {
      const current = this.entries.expiresAt(id);
      if (current === undefined) added.push(id);
      // Only ever extend: a replayed older event must not shorten a later one.
      if (current === undefined || current < expiresAt) this.entries.set(id, true, expiresAt);
    }
    return added;
  }

  has(credentialId: string): boolean {
    return this.entries.has(credentialId);
  }

  /** Entries still in force. */
  get size(): number {
    return this.entries.size;
  }

  prune(): number {
    return this.entries.prune();
  }

  clear(): void {
    this.entries.clear();
  }

  /** Stops the prune timer. */
  close(): void {
    this.entries.close();
  }
}
