import { LRUCache } from 'lru-cache';

import type { ApiKeyPrincipal } from '../../principal';

export interface Verdict {
  /** null: the presented key is not valid. */
  principal: ApiKeyPrincipal | null;
  /** Key id named by the presented string (valid or not), for invalidation. */
  keyId: string;
  /** Allowed client addresses; null → any. */
  allows: ((ip: string) => boolean) | null;
  /** ms epoch. */
  expiresAt: number;
}

/**
 * Verdicts keyed by SHA-256 of the presented key string (never the string
 * itself), each trusted until its `expiresAt`, indexed by key id so revoking
 * a key drops all its entries. Bounded: the least recently used go first.
 */
export class VerdictCache {
  private readonly entries: LRUCache<string, Verdict>;
  private readonly byKeyId = new Map<string, Set<string>>();

  constructor(maxEntries = 10_000) {
    this.entries = new LRUCache<string, Verdict>({
      max: maxEntries,
      // Every way out (eviction, expiry, invalidation, replacement) keeps the key-id index in step.
      dispose: (verdict, hash) => this.unindex(verdict.keyId, hash),
    });
  }

  get(hash: string, now: number): Verdict | undefined {
    const v = this.entries.get(hash);
    // The cache's own clock and the caller's may differ by a tick: the caller's `now` decides.
    if (v && v.expiresAt <= now) {
      this.entries.delete(hash);
      return undefined;
    }
    return v;
  }

  set(hash: string, verdict: Verdict, now = Date.now()): void {
    const ttl = Math.ceil(verdict.expiresAt - now);
    if (ttl <= 0) {
      this.entries.delete(hash);
      return;
    }
    this.entries.set(hash, verdict, { ttl });
    let set = this.byKeyId.get(verdict.keyId);
    if (!set) this.byKeyId.set(verdict.keyId, (set = new Set()));
    set.add(hash);
  }

  /** Drops every verdict about one key id. */
  invalidateKey(keyId: string): number {
    const set = this.byKeyId.get(keyId);
    if (!set) return 0;
    const n = set.size;
    for (const hash of [...set]) this.entries.delete(hash);
    return n;
  }

  clear(): void {
    this.entries.clear();
    this.byKeyId.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private unindex(keyId: string, hash: string): void {
    const set = this.byKeyId.get(keyId);
    set?.delete(hash);
    if (set && set.size === 0) this.byKeyId.delete(keyId);
  }
}
