import { createHash } from 'node:crypto';

import { Inject, Injectable, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { verify as bcryptVerify } from '@node-rs/bcrypt';

import { ApiKeyType, compileAllowlist, DEFAULT_WILL_POLICY, parseApiKey } from '@signet/credentials';
import type { Logger } from '@signet/observability';
import { LOGGER } from '@signet/observability';
import type { RevocationBus } from '@signet/revocation';
import { REVOCATION_BUS } from '@signet/revocation';

import { API_KEYS_REPOSITORY, ApiKeysRepository } from '../../api-keys.repository';
import { invalidApiKey, ipNotAllowed, tooManyAttempts, verificationOverloaded } from '../../errors';
import { API_KEYS_OPTIONS, ApiKeysOptions, resolveOptions } from '../../options';
import type { ApiKeyPrincipal } from '../../principal';
import { CreateApiKeyInput, CreatedApiKey, issueApiKey } from '../create/issue-key';
import { UsageService } from '../usage/usage.service';
import { GuessThrottle } from './throttle';
import { Verdict, VerdictCache } from './verdict-cache';
import type { VerifyKeyCommand } from './verify-key.command';

/** Default time a verdict is trusted (see ApiKeysOptions.verdictTtlMs). */
export const VERDICT_TTL_MS = 60_000;
/** `last_used_at` is written at most this often per key: usage tracking must not cost a write per request. */
export const LAST_USED_WRITE_INTERVAL_MS = 60_000;
/** Valid digests remembered per key id, so its holder passes the guess throttle. */
const KNOWN_GOOD_PER_KEY = 4;
const KNOWN_GOOD_MAX_KEYS = 100_000;

/** The outcome of checking a presented key string, before the caller's address is applied. */
export type KeyCheck =
  | { status: 'valid'; principal: ApiKeyPrincipal; allows: ((ip: string) => boolean) | null; cacheUntil: number }
  | { status: 'invalid'; cacheUntil: number }
  | { status: 'throttled'; retryAfterMs: number; overloaded?: true };

/** Retry-After of a check shed for load: a bcrypt run takes tens of milliseconds. */
const OVERLOADED_RETRY_MS = 1000;

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
  readonly stats = { bcryptChecks: 0, cacheHits: 0, throttled: 0, shed: 0 };

  constructor(
    @Inject(API_KEYS_REPOSITORY) private readonly repository: ApiKeysRepository,
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
  async verify(presented: string, context: Omit<VerifyKeyCommand, 'key'> = {}): Promise<ApiKeyPrincipal> {
    const result = await this.check(presented, context.ip);
    if (result.status === 'throttled') {
      throw result.overloaded ? verificationOverloaded(result.retryAfterMs) : tooManyAttempts(result.retryAfterMs);
    }
    if (result.status === 'invalid') throw invalidApiKey();
    const principal = result.principal;
    if (result.allows && (context.ip === undefined || !result.allows(context.ip))) {
      this.usage?.record(principal.keyId, 'denials');
      throw ipNotAllowed();
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
        // Shed rather than queue: the checks in flight already keep the hashing pool busy.
        if (this.inFlight.size >= this.options.maxConcurrentChecks) {
          this.stats.shed++;
          return { status: 'throttled', retryAfterMs: OVERLOADED_RETRY_MS, overloaded: true };
        }
        pending = this.load(parsed.keyId, parsed.type, presented).finally(() => this.inFlight.delete(digest));
        this.inFlight.set(digest, pending);
      }
      verdict = await pending;
      if (epoch === this.epoch) this.cache.set(digest, verdict, Date.now());
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

  /** Creates a key and returns its string, the only time it is ever available (no rights are checked here). */
  createKey(input: CreateApiKeyInput): Promise<CreatedApiKey> {
    return issueApiKey(this.repository, input);
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
    const key = await this.repository.findForVerification(keyId);
    if (!key || key.type !== type || key.revoked) return negative;
    if (key.expiresAt !== null && key.expiresAt <= now) return negative;
    this.stats.bcryptChecks++;
    if (!(await bcryptVerify(presented, key.keyHash))) return negative;
    return {
      principal: {
        keyId: key.id,
        orgId: key.orgId,
        name: key.name,
        type: key.type,
        scopes: key.scopes,
        ipAllowlist: key.ipAllowlist,
        expiresAt: key.expiresAt,
        willOnRevoke: key.willOnRevoke ?? DEFAULT_WILL_POLICY,
      },
      keyId,
      // Built once per verdict: each CONNECT or request then only matches against it.
      allows: compileAllowlist(key.ipAllowlist),
      // Never trust a cached "valid" past the key's own expiry.
      expiresAt: Math.min(now + this.options.verdictTtlMs, key.expiresAt ?? Infinity),
    };
  }

  /** Records use at most once a minute per key per process; the SQL condition dedupes across processes. */
  private touch(keyId: string, now: number): void {
    const last = this.lastUsedWritten.get(keyId);
    if (last !== undefined && now - last < LAST_USED_WRITE_INTERVAL_MS) return;
    this.lastUsedWritten.set(keyId, now);
    this.repository
      .touchLastUsed(keyId)
      .catch((err: unknown) => this.logger.warn({ err, keyId }, 'could not record API key use'));
  }

  /** For the gRPC path: the edge records last use through its usage reports. */
  touchFromEdge(keyId: string): void {
    this.touch(keyId, Date.now());
  }
}
