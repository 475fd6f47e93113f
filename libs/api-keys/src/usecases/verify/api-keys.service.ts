import { createHash } from 'node:crypto';

import { Inject, Injectable, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { hash as bcryptHash, verify as bcryptVerify } from '@node-rs/bcrypt';
import type { DataSource, EntityManager } from 'typeorm';

import { ApiKeyType, compileAllowlist, DEFAULT_WILL_POLICY, newApiKey, parseApiKey } from '@signet/credentials';
import { DATA_SOURCE, forbidden, LOGGER, ProblemError, REVOCATION_BUS, tooManyRequests, unauthorized } from '@signet/http';
import type { Logger } from '@signet/observability';
import { ApiKeyEntity } from '@signet/persistence';
import type { RevocationBus } from '@signet/revocation';

import { API_KEYS_OPTIONS, ApiKeysOptions, resolveOptions } from './options';
import type { ApiKeyPrincipal } from './principal';
import { GuessThrottle } from './throttle';
import { UsageService } from './usage.service';
import { Verdict, VerdictCache } from './verdict-cache';

/** bcrypt work factor for API keys (≈ tens of ms here; the verdict cache keeps it off the hot path). */
export const API_KEY_BCRYPT_COST = 10;
/** Default time a verdict is trusted (see ApiKeysOptions.verdictTtlMs). */
export const VERDICT_TTL_MS = 60_000;
/** `last_used_at` is written at most this often per key: usage tracking must not cost a write per request. */
export const LAST_USED_WRITE_INTERVAL_MS = 60_000;
/** Valid digests remembered per key id, so its holder passes the guess throttle. */
const KNOWN_GOOD_PER_KEY = 4;
const KNOWN_GOOD_MAX_KEYS = 100_000;

export interface VerifyContext {
  /** Client address; checked against the key's IP allowlist, and the unit of throttling. */
  ip?: string;
}

export interface CreatedApiKey {
  keyId: string;
  /** The key string: shown once, never stored. */
  apiKey: string;
}

export interface CreateApiKeyInput {
  orgId: string;
  name: string;
  type?: ApiKeyType;
  scopes?: string[];
  ipAllowlist?: string[];
  expiresAt?: Date | null;
  rotatedFrom?: string | null;
}

/** One key and its org's will policy, as `load` reads them. */
interface KeyRow {
  id: string;
  org_id: string;
  name: string;
  type: ApiKeyType;
  key_hash: string;
  scopes: unknown;
  ip_allowlist: unknown;
  expires_at: Date | string | null;
  revoked_at: Date | string | null;
  /** null: the org has no settings row (the default applies). */
  will_on_revoke: string | null;
}

/** jsonb arrays arrive parsed from pg and PGlite; a string (some drivers) is parsed here. */
const jsonArray = (value: unknown): string[] => {
  const v: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
};

/** The outcome of checking a presented key string, before the caller's address is applied. */
export type KeyCheck =
  | { status: 'valid'; principal: ApiKeyPrincipal; allows: ((ip: string) => boolean) | null; cacheUntil: number }
  | { status: 'invalid'; cacheUntil: number }
  | { status: 'throttled'; retryAfterMs: number };

export const invalidApiKey = (): ProblemError => unauthorized('invalid_api_key', 'the API key is invalid, expired or revoked');

export const tooManyAttempts = (retryAfterMs: number): ProblemError =>
  tooManyRequests('too_many_attempts', 'too many failed API key attempts; try again later', retryAfterMs);

/**
 * Verifies `sk_`/`rk_` keys. The key id inside the string makes the lookup
 * one primary-key read; bcrypt then runs at most once per presented key per
 * verdict period thanks to an in-memory verdict cache (keyed by SHA-256 of
 * the key, so the cache never holds a usable secret). Concurrent first
 * requests with the same key share one bcrypt run. Failed attempts are
 * throttled per address and per key id (see GuessThrottle).
 */
@Injectable()
export class ApiKeysService implements OnModuleInit, OnModuleDestroy {
  private readonly cache = new VerdictCache();
  private readonly inFlight = new Map<string, Promise<Verdict>>();
  private readonly lastUsedWritten = new Map<string, number>();
  private readonly knownGood = new Map<string, string[]>();
  private readonly throttle: GuessThrottle;
  private readonly options: ApiKeysOptions;
  private unsubscribe: (() => void) | undefined;
  /** Bumped by every invalidation: a check that started before one must not cache its (possibly stale) verdict. */
  private epoch = 0;
  /** Counters for metrics and tests. */
  readonly stats = { bcryptChecks: 0, cacheHits: 0, throttled: 0 };

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() @Inject(REVOCATION_BUS) private readonly bus?: RevocationBus,
    @Optional() @Inject(API_KEYS_OPTIONS) options?: Partial<ApiKeysOptions>,
    @Optional() private readonly usage?: UsageService,
  ) {
    this.options = resolveOptions(options);
    this.throttle = new GuessThrottle(this.options.throttle);
  }

  onModuleInit(): void {
    // A key revoked (or expired) by another process reaches this one over the bus.
    this.unsubscribe = this.bus?.subscribe((event) => {
      for (const id of event.credentialIds) this.invalidateKey(id);
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  /**
   * REST verification: 401 `invalid_api_key` (malformed keys are refused
   * before any hashing), 403 `ip_not_allowed`, 429 `too_many_attempts`.
   */
  async verify(presented: string, context: VerifyContext = {}): Promise<ApiKeyPrincipal> {
    const result = await this.check(presented, context.ip);
    if (result.status === 'throttled') throw tooManyAttempts(result.retryAfterMs);
    if (result.status === 'invalid') throw invalidApiKey();
    const principal = result.principal;
    if (result.allows && (context.ip === undefined || !result.allows(context.ip))) {
      this.usage?.record(principal.keyId, 'denials');
      throw forbidden('ip_not_allowed', 'this API key may not be used from this address');
    }
    this.touch(principal.keyId, Date.now());
    return principal;
  }

  /**
   * Checks a presented key without applying an allowlist (an edge applies it
   * to each CONNECT from the cached verdict). `ip` is the unit of throttling.
   */
  async check(presented: string, ip?: string): Promise<KeyCheck> {
    const now = Date.now();
    const parsed = typeof presented === 'string' ? parseApiKey(presented) : null;
    if (!parsed) {
      const wait = this.throttle.retryAfter(ip, null, now);
      if (wait > 0) return this.throttled(wait);
      this.throttle.fail(ip, null, now);
      return { status: 'invalid', cacheUntil: now + this.options.verdictTtlMs };
    }
    const digest = createHash('sha256').update(presented).digest('hex');
    let verdict = this.cache.get(digest, now);
    if (verdict?.principal) {
      // A key known to be good is never throttled: its holder is not locked out by an attacker.
      this.stats.cacheHits++;
      return { status: 'valid', principal: verdict.principal, allows: verdict.allows, cacheUntil: verdict.expiresAt };
    }
    const known = this.knownGood.get(parsed.keyId)?.includes(digest) ?? false;
    if (!known) {
      const wait = this.throttle.retryAfter(ip, parsed.keyId, now);
      if (wait > 0) return this.throttled(wait);
    }
    if (verdict) {
      this.stats.cacheHits++;
    } else {
      const epoch = this.epoch;
      let pending = this.inFlight.get(digest);
      if (!pending) {
        pending = this.load(parsed.keyId, parsed.type, presented).finally(() => this.inFlight.delete(digest));
        this.inFlight.set(digest, pending);
      }
      verdict = await pending;
      if (epoch === this.epoch) this.cache.set(digest, verdict);
    }
    if (!verdict.principal) {
      this.throttle.fail(ip, parsed.keyId, now);
      return { status: 'invalid', cacheUntil: verdict.expiresAt };
    }
    this.rememberGood(parsed.keyId, digest);
    return { status: 'valid', principal: verdict.principal, allows: verdict.allows, cacheUntil: verdict.expiresAt };
  }

  /** Drops cached verdicts of a key (call when it is revoked, rotated or expired). */
  invalidateKey(keyId: string): void {
    this.epoch++;
    this.cache.invalidateKey(keyId);
    this.knownGood.delete(keyId);
  }

  /** Creates a key and returns its string, the only time it is ever available. */
  async createKey(input: CreateApiKeyInput, manager: EntityManager = this.dataSource.manager): Promise<CreatedApiKey> {
    const type = input.type ?? 'secret';
    const key = newApiKey(type);
    await manager.insert(ApiKeyEntity, {
      id: key.keyId,
      orgId: input.orgId,
      name: input.name,
      type,
      keyHash: await bcryptHash(key.key, API_KEY_BCRYPT_COST),
      scopes: type === 'secret' ? [] : (input.scopes ?? []),
      ipAllowlist: input.ipAllowlist ?? [],
      expiresAt: input.expiresAt ?? null,
      rotatedFrom: input.rotatedFrom ?? null,
    });
    return { keyId: key.keyId, apiKey: key.key };
  }

  private throttled(retryAfterMs: number): KeyCheck {
    this.stats.throttled++;
    return { status: 'throttled', retryAfterMs };
  }

  private rememberGood(keyId: string, digest: string): void {
    const list = this.knownGood.get(keyId);
    if (list) {
      if (!list.includes(digest)) {
        list.push(digest);
        if (list.length > KNOWN_GOOD_PER_KEY) list.shift();
      }
      return;
    }
    if (this.knownGood.size >= KNOWN_GOOD_MAX_KEYS) {
      const oldest = this.knownGood.keys().next();
      if (!oldest.done) this.knownGood.delete(oldest.value);
    }
    this.knownGood.set(keyId, [digest]);
  }

  private async load(keyId: string, type: ApiKeyType, presented: string): Promise<Verdict> {
    const now = Date.now();
    const negative: Verdict = { principal: null, keyId, allows: null, expiresAt: now + this.options.verdictTtlMs };
    // The org's will policy comes with the key in the same round trip (no row = the default).
    const rows: KeyRow[] = await this.dataSource.query(
      `SELECT k.id, k.org_id, k.name, k.type, k.key_hash, k.scopes, k.ip_allowlist, k.expires_at, k.revoked_at,
              s.will_on_revoke
         FROM api_keys k
         LEFT JOIN org_settings s ON s.org_id = k.org_id
        WHERE k.id = $1`,
      [keyId],
    );
    const row = rows[0];
    if (!row || row.type !== type || row.revoked_at !== null) return negative;
    const expiresAt = row.expires_at === null ? null : new Date(row.expires_at).getTime();
    if (expiresAt !== null && expiresAt <= now) return negative;
    this.stats.bcryptChecks++;
    if (!(await bcryptVerify(presented, row.key_hash))) return negative;
    const scopes = jsonArray(row.scopes);
    const ipAllowlist = jsonArray(row.ip_allowlist);
    return {
      principal: {
        keyId: row.id,
        orgId: row.org_id,
        name: row.name,
        type: row.type,
        scopes,
        ipAllowlist,
        expiresAt,
        willOnRevoke: row.will_on_revoke === 'publish' ? 'publish' : DEFAULT_WILL_POLICY,
      },
      keyId,
      allows: compileAllowlist(ipAllowlist),
      // Never trust a cached "valid" past the key's own expiry.
      expiresAt: Math.min(now + this.options.verdictTtlMs, expiresAt ?? Infinity),
    };
  }

  /** Records use at most once a minute per key per process; the SQL condition dedupes across processes. */
  private touch(keyId: string, now: number): void {
    const last = this.lastUsedWritten.get(keyId);
    if (last !== undefined && now - last < LAST_USED_WRITE_INTERVAL_MS) return;
    this.lastUsedWritten.set(keyId, now);
    this.dataSource
      .query(
        `UPDATE api_keys SET last_used_at = now()
          WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '60 seconds')`,
        [keyId],
      )
      .catch((err: unknown) => this.logger.warn({ err, keyId }, 'could not record API key use'));
  }

  /** For the gRPC path: the edge records last use through its usage reports. */
  touchFromEdge(keyId: string): void {
    this.touch(keyId, Date.now());
  }
}
