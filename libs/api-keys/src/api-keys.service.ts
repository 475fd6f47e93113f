import { createHash } from 'node:crypto';

import { Inject, Injectable, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { hash as bcryptHash, verify as bcryptVerify } from '@node-rs/bcrypt';
import type { DataSource, EntityManager } from 'typeorm';

import { ApiKeyType, newApiKey, parseApiKey } from '@signet/credentials';
import { DATA_SOURCE, forbidden, LOGGER, REVOCATION_BUS, unauthorized } from '@signet/http';
import type { Logger } from '@signet/observability';
import { ApiKeyEntity } from '@signet/persistence';
import type { RevocationBus } from '@signet/revocation';

import { compileAllowlist } from './ip-allowlist';
import type { ApiKeyPrincipal } from './principal';
import { Verdict, VerdictCache } from './verdict-cache';

/** bcrypt work factor for API keys (≈ tens of ms here; the verdict cache keeps it off the hot path). */
export const API_KEY_BCRYPT_COST = 10;
/** How long a verdict (valid or not) is trusted before bcrypt runs again. */
export const VERDICT_TTL_MS = 60_000;
/** `last_used_at` is written at most this often per key: usage tracking must not cost a write per request. */
export const LAST_USED_WRITE_INTERVAL_MS = 60_000;

export interface VerifyContext {
  /** Client address; checked against the key's IP allowlist when given. */
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
}

const invalidKey = () => unauthorized('invalid_api_key', 'the API key is invalid, expired or revoked');

/**
 * Verifies `sk_`/`rk_` keys. The key id inside the string makes the lookup
 * one primary-key read; bcrypt then runs at most once per presented key per
 * VERDICT_TTL_MS thanks to an in-memory verdict cache (keyed by SHA-256 of
 * the key, so the cache never holds a usable secret). Concurrent first
 * requests with the same key share one bcrypt run.
 */
@Injectable()
export class ApiKeysService implements OnModuleInit, OnModuleDestroy {
  private readonly cache = new VerdictCache();
  private readonly inFlight = new Map<string, Promise<Verdict>>();
  private readonly lastUsedWritten = new Map<string, number>();
  private unsubscribe: (() => void) | undefined;
  /** Bumped by every invalidation: a check that started before one must not cache its (possibly stale) verdict. */
  private epoch = 0;
  /** Counters for metrics and tests. */
  readonly stats = { bcryptChecks: 0, cacheHits: 0 };

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() @Inject(REVOCATION_BUS) private readonly bus?: RevocationBus,
  ) {}

  onModuleInit(): void {
    // A key revoked by another process reaches this one over the bus.
    this.unsubscribe = this.bus?.subscribe((event) => {
      for (const id of event.credentialIds) this.invalidateKey(id);
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  /** Throws 401 `invalid_api_key` (or 403 `ip_not_allowed`); malformed keys are refused before any hashing. */
  async verify(presented: string, context: VerifyContext = {}): Promise<ApiKeyPrincipal> {
    const parsed = parseApiKey(presented);
    if (!parsed) throw invalidKey();
    const digest = createHash('sha256').update(presented).digest('hex');
    const now = Date.now();
    let verdict = this.cache.get(digest, now);
    if (verdict) {
      this.stats.cacheHits++;
    } else {
      const epoch = this.epoch;
      let pending = this.inFlight.get(digest);
      if (!pending) {
        pending = this.check(parsed.keyId, parsed.type, presented).finally(() => this.inFlight.delete(digest));
        this.inFlight.set(digest, pending);
      }
      verdict = await pending;
      if (epoch === this.epoch) this.cache.set(digest, verdict);
    }
    const principal = verdict.principal;
    if (!principal) throw invalidKey();
    if (verdict.allows && (context.ip === undefined || !verdict.allows(context.ip))) {
      throw forbidden('ip_not_allowed', 'this API key may not be used from this address');
    }
    this.touch(principal.keyId, now);
    return principal;
  }

  /** Drops cached verdicts of a key (call when it is revoked or changed). */
  invalidateKey(keyId: string): void {
    this.epoch++;
    this.cache.invalidateKey(keyId);
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
    });
    return { keyId: key.keyId, apiKey: key.key };
  }

  private async check(keyId: string, type: ApiKeyType, presented: string): Promise<Verdict> {
    const now = Date.now();
    const negative: Verdict = { principal: null, keyId, allows: null, expiresAt: now + VERDICT_TTL_MS };
    const row = await this.dataSource.getRepository(ApiKeyEntity).findOne({ where: { id: keyId } });
    if (!row || row.type !== type || row.revokedAt !== null) return negative;
    if (row.expiresAt !== null && row.expiresAt.getTime() <= now) return negative;
    this.stats.bcryptChecks++;
    if (!(await bcryptVerify(presented, row.keyHash))) return negative;
    return {
      principal: { keyId: row.id, orgId: row.orgId, name: row.name, type: row.type, scopes: row.scopes },
      keyId,
      allows: compileAllowlist(row.ipAllowlist),
      // Never trust a cached "valid" past the key's own expiry.
      expiresAt: Math.min(now + VERDICT_TTL_MS, row.expiresAt?.getTime() ?? Infinity),
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
}
