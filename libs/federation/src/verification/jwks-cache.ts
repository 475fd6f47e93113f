import { importJWK, JWK, KeyLike } from 'jose';

import { FEDERATION_ERRORS, idpUnavailable, refuse } from '../errors';
import { fetchJson, FetchLimits } from './fetch';

export interface JwksCacheOptions extends FetchLimits {
  /** Keys older than this are refetched before use (the last good set keeps serving if that fails). */
  maxAgeMs: number;
  /** At most one fetch per this period: an unknown `kid` cannot be used to hammer the IdP. */
  cooldownMs: number;
  now?: () => number;
  /** Told when a refetch fails while the last good keys keep serving; never given a token. */
  onStale?: (url: string, error: Error) => void;
}

/** At most this many keys per set: real IdPs publish a handful. */
const MAX_KEYS = 100;

/**
 * The public keys an IdP publishes at one JWKS URL, looked up by `kid`.
 *
 * - fetched on first use; refetched when older than `maxAgeMs`, and at once
 *   (within `cooldownMs` of the previous fetch at most) when a token names a
 *   `kid` the set does not hold, so a key rotation works immediately;
 * - concurrent lookups share one fetch;
 * - when a refetch fails, the last good set keeps serving; with no set at
 *   all, lookups fail closed with 503 `idp_unavailable`;
 * - a key is used only for the algorithm the provider pinned and the token
 *   names, and only if its own `alg`/`use` (when present) agree: the key
 *   type is thereby bound to the algorithm (no HS/RS confusion).
 */
export class JwksCache {
  private keys: Map<string, JWK> | null = null;
  private fetchedAt = 0;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private lastError: Error | null = null;
  private inflight: Promise<void> | null = null;
  private readonly imported = new Map<string, KeyLike | Uint8Array>();
  private readonly now: () => number;

  constructor(
    readonly url: string,
    private readonly options: JwksCacheOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async getKey(kid: string, alg: string): Promise<KeyLike | Uint8Array> {
    if (this.keys === null || this.now() - this.fetchedAt > this.options.maxAgeMs) await this.refresh();
    if (this.keys === null) throw idpUnavailable('the identity provider\'s keys cannot be fetched');
    let jwk = this.keys.get(kid);
    if (!jwk && this.now() - this.lastAttemptAt >= this.options.cooldownMs) {
      await this.refresh();
      jwk = this.keys.get(kid);
      // The set could not be refetched: whether this kid is a rotation or a forgery is unknown.
      if (!jwk && this.lastError) throw idpUnavailable('the identity provider\'s keys cannot be refreshed');
    }
    if (!jwk) throw refuse(FEDERATION_ERRORS.unknownKey, 'the token was signed with a key the identity provider does not publish');
    if ((jwk.use !== undefined && jwk.use !== 'sig') || (jwk.alg !== undefined && jwk.alg !== alg)) {
      throw refuse(FEDERATION_ERRORS.unknownKey, `the identity provider's key ${kid} is not for ${alg} signatures`);
    }
    const cacheKey = `${kid}\u0000${alg}\u0000${jwk.kty}`;
    const cached = this.imported.get(cacheKey);
    if (cached) return cached;
    let key: KeyLike | Uint8Array;
    try {
      // importJWK with alg refuses a key whose type does not fit the algorithm.
      key = await importJWK(jwk, alg);
    } catch {
      throw refuse(FEDERATION_ERRORS.unknownKey, `the identity provider's key ${kid} cannot verify ${alg}`);
    }
    this.imported.set(cacheKey, key);
    return key;
  }

  /** Fetches the set now (sharing an ongoing fetch); never throws: a failure keeps the last good set. */
  refresh(): Promise<void> {
    if (this.inflight) return this.inflight;
    this.lastAttemptAt = this.now();
    this.inflight = this.load()
      .then((keys) => {
        this.keys = keys;
        this.fetchedAt = this.now();
        this.lastError = null;
        this.imported.clear();
      })
      .catch((err: unknown) => {
        this.lastError = err instanceof Error ? err : new Error(String(err));
        if (this.keys !== null) this.options.onStale?.(this.url, this.lastError);
      })
      .finally(() => {
        this.inflight = null;
      });
    return this.inflight;
  }

  private async load(): Promise<Map<string, JWK>> {
    const body = await fetchJson(this.url, this.options);
    if (!isObject(body) || !Array.isArray(body.keys)) throw new Error(`${this.url} is not a JWK set`);
    const keys = new Map<string, JWK>();
    for (const entry of body.keys.slice(0, MAX_KEYS)) {
      // Keys without a kid cannot be selected by a token; private members are never accepted.
      if (!isObject(entry) || typeof entry.kty !== 'string' || typeof entry.kid !== 'string') continue;
      if ('d' in entry || 'k' in entry) continue;
      keys.set(entry.kid, { ...entry, kty: entry.kty });
    }
    return keys;
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** One cache per JWKS URL for the whole process, so providers sharing an IdP share its keys. */
export class JwksRegistry {
  private readonly caches = new Map<string, JwksCache>();

  constructor(private readonly options: JwksCacheOptions) {}

  get(url: string): JwksCache {
    let cache = this.caches.get(url);
    if (!cache) {
      cache = new JwksCache(url, this.options);
      this.caches.set(url, cache);
    }
    return cache;
  }
}
