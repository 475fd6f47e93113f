import { LRUCache } from 'lru-cache';

import type { StepAnswer } from './chain';

/** A cached verdict a revocation can name: by its org, or by the credential id its sessions carry. */
export interface RevocableVerdict {
  orgId: string;
  credentialId: string;
}

/**
 * The verdict cache of a remote chain step (webhook, LDAP bind), keyed by a
 * digest of the credentials: one question in flight per digest (concurrent
 * CONNECTs with the same credentials share it), and a revocation that lands
 * while a question is out is not undone by its older answer (the epoch).
 */
export class VerdictCache<V extends RevocableVerdict> {
  private readonly cache: LRUCache<string, V>;
  private readonly inFlight = new Map<string, Promise<StepAnswer>>();
  private epoch = 0;

  constructor(options: { size?: number; now: () => number }) {
    this.cache = new LRUCache({ max: options.size ?? 10_000, perf: { now: options.now }, ttlResolution: 0 });
  }

  get(digest: string): V | undefined {
    return this.cache.get(digest);
  }

  /** `ask` gets a `remember` that caches its verdict for `ttl` ms, unless a revocation came meanwhile. */
  once(digest: string, ask: (remember: (entry: V, ttl: number) => void) => Promise<StepAnswer>): Promise<StepAnswer> {
    let pending = this.inFlight.get(digest);
    if (!pending) {
      const epoch = this.epoch;
      const remember = (entry: V, ttl: number) => {
        if (epoch === this.epoch && ttl > 0) this.cache.set(digest, entry, { ttl });
      };
      pending = ask(remember).finally(() => this.inFlight.delete(digest));
      this.inFlight.set(digest, pending);
    }
    return pending;
  }

  /** Drops the verdicts of the named orgs or credential ids. */
  invalidate(credentialIds: readonly string[]): void {
    if (credentialIds.length === 0) return;
    this.epoch++;
    const named = new Set(credentialIds);
    for (const [digest, entry] of this.cache.entries()) {
      if (named.has(entry.orgId) || named.has(entry.credentialId)) this.cache.delete(digest);
    }
  }

  get size(): number {
    return this.cache.size;
  }

  /** The keys: digests, never a password (what a check that no secret is kept looks at). */
  digests(): string[] {
    return [...this.cache.keys()];
  }
}
