import type { ApiKeyPrincipal } from './principal';

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
 * itself), indexed by key id so revoking a key drops all its entries.
 * Bounded: the oldest entries go first when full.
 */
export class VerdictCache {
  private readonly entries = new Map<string, Verdict>();
  private readonly byKeyId = new Map<string, Set<string>>();

  constructor(private readonly maxEntries = 10_000) {}

  get(hash: string, now: number): Verdict | undefined {
    const v = this.entries.get(hash);
    if (!v) return undefined;
    if (v.expiresAt <= now) {
      this.delete(hash);
      return undefined;
    }
    return v;
  }

  set(hash: string, verdict: Verdict): void {
    this.delete(hash);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
    }
    this.entries.set(hash, verdict);
    let set = this.byKeyId.get(verdict.keyId);
    if (!set) this.byKeyId.set(verdict.keyId, (set = new Set()));
    set.add(hash);
  }

  /** Drops every verdict about one key id. */
  invalidateKey(keyId: string): number {
    const set = this.byKeyId.get(keyId);
    if (!set) return 0;
    const n = set.size;
    for (const hash of [...set]) this.delete(hash);
    return n;
  }

  clear(): void {
    this.entries.clear();
    this.byKeyId.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private delete(hash: string): void {
    const v = this.entries.get(hash);
    if (!v) return;
    this.entries.delete(hash);
    const set = this.byKeyId.get(v.keyId);
    set?.delete(hash);
    if (set && set.size === 0) this.byKeyId.delete(v.keyId);
  }
}
