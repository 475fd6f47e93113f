import type { JWK, KeyLike } from 'jose';

import { importPublicJwk } from '@signet/credentials';

export interface KeySourceLogger {
  warn(obj: object, msg?: string): void;
}

/**
 * The token service's public signing keys, as the edge sees them: fetched
 * once, kept, and refetched only when a token names a kid the edge has not
 * seen (a rotation), at most once per `minRefetchIntervalMs`. When the fetch
 * fails the keys already known keep serving.
 */
export class PublicKeyCache {
  private keys = new Map<string, KeyLike>();
  private lastFetchAt = 0;
  private inflight: Promise<void> | null = null;

  constructor(
    private readonly fetchJwks: () => Promise<JWK[]>,
    private readonly options: { minRefetchIntervalMs?: number; logger?: KeySourceLogger; now?: () => number } = {},
  ) {}

  get size(): number {
    return this.keys.size;
  }

  /** Loads the keys now (at start, so the first CONNECT does not wait). */
  refresh(): Promise<void> {
    this.inflight ??= this.load().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  resolve = async (kid: string): Promise<KeyLike | undefined> => {
    const known = this.keys.get(kid);
    if (known) return known;
    const now = (this.options.now ?? Date.now)();
    if (now - this.lastFetchAt >= (this.options.minRefetchIntervalMs ?? 1000)) await this.refresh();
    return this.keys.get(kid);
  };

  private async load(): Promise<void> {
    this.lastFetchAt = (this.options.now ?? Date.now)();
    try {
      const jwks = await this.fetchJwks();
      const next = new Map<string, KeyLike>();
      for (const jwk of jwks) {
        if (!jwk.kid) continue;
        next.set(jwk.kid, this.keys.get(jwk.kid) ?? (await importPublicJwk(jwk)));
      }
      this.keys = next;
    } catch (err) {
      this.options.logger?.warn({ err }, 'could not fetch signing keys; keeping the ones already known');
    }
  }
}
