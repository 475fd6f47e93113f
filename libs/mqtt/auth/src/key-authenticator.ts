import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

import type { ApiKeyVerification, ApiKeyVerifier, UsageCounter, VerifiedApiKey } from '@signet/contracts';
import { compileAllowlist, mqttGrants, parseApiKey, parseMqttUsername } from '@signet/credentials';
import type { AuthResult, ConnectAuthenticator, ConnectRequest } from '@signet/mqtt-edge';
import { PermissionSet } from '@signet/permissions';

import type { RevokedCredentials } from './token-authenticator';

export interface KeyAuthenticatorOptions {
  /** The key service: in-process in the all-in-one, a gRPC client in a standalone edge. */
  verifier: ApiKeyVerifier;
  revoked: RevokedCredentials;
  /** False while the edge cannot vouch for revocation state (bus unreachable too long). */
  isFresh?: () => boolean;
  /** Usage counting (a denial when the address is outside the key's allowlist). */
  count?: (keyId: string, counter: UsageCounter) => void;
  /** Upper bound on how long a verdict is kept, whatever the key service says. */
  maxCacheMs?: number;
  cacheSize?: number;
  now?: () => number;
}

interface CachedVerdict {
  keyId: string;
  key: VerifiedApiKey | null;
  allows: ((ip: string) => boolean) | null;
  permissions: { publish: string[]; subscribe: string[] } | null;
}

/**
 * Accepts `sk_`/`rk_` passwords at CONNECT, with username `<name>@<org_id>`.
 * The key service is asked once per presented key per cache period (so
 * bcrypt runs at most once per key per period per edge); its verdict — valid
 * or not — is cached by SHA-256 of the key, and dropped at once when a
 * revocation (revoke, rotation grace end, expiry) names the key id.
 * `sk_` gets full access inside its org; `rk_` only its `mqtt:` scopes.
 */
export class KeyAuthenticator implements ConnectAuthenticator {
  /** Verdicts by SHA-256 of the presented key, each for its TTL; least recently used go first when full. */
  private readonly cache: LRUCache<string, CachedVerdict>;
  /** key id → digests of its cached verdicts, so a revocation finds them. */
  private readonly byKeyId = new Map<string, Set<string>>();
  private readonly inFlight = new Map<string, Promise<ApiKeyVerification>>();
  private readonly now: () => number;
  private epoch = 0;
  /** For tests and metrics. */
  readonly stats = { verifierCalls: 0, cacheHits: 0 };

  constructor(private readonly options: KeyAuthenticatorOptions) {
    this.now = options.now ?? Date.now;
    this.cache = new LRUCache<string, CachedVerdict>({
      max: options.cacheSize ?? 10_000,
      perf: { now: this.now },
      // Every lookup reads the clock: a verdict is never served past its TTL.
      ttlResolution: 0,
      // Evicted, expired, replaced or invalidated: the index follows.
      dispose: (verdict, digest) => this.unindex(verdict.keyId, digest),
    });
  }

  async authenticate(request: ConnectRequest): Promise<AuthResult> {
    const { username, password } = request;
    if (!username || !password) return { ok: false, reason: 'bad_credentials', detail: 'username and password required' };
    const target = parseMqttUsername(username);
    if (!target) return { ok: false, reason: 'bad_credentials', detail: 'username must be <name>@<org_id>' };
    const secret = password.toString('utf8');
    // Checksum first: a mistyped or forged string costs no call to the key service.
    const parsed = parseApiKey(secret);
    if (!parsed) return { ok: false, reason: 'bad_credentials', detail: 'malformed API key' };
    if (this.options.isFresh && !this.options.isFresh()) {
      return { ok: false, reason: 'server_unavailable', detail: 'revocation state is stale' };
    }
    if (this.options.revoked.has(parsed.keyId)) return { ok: false, reason: 'bad_credentials', detail: 'key revoked' };

    let verdict: CachedVerdict;
    try {
      const v = await this.verdict(secret, parsed.keyId, request.remoteAddress);
      if (v === 'throttled') return { ok: false, reason: 'server_unavailable', detail: 'too many failed attempts; throttled' };
      if (v === 'overloaded') return { ok: false, reason: 'server_busy', detail: 'key verification overloaded' };
      verdict = v;
    } catch {
      // The key service is unreachable: say so (retryable) rather than "bad credentials".
      return { ok: false, reason: 'server_unavailable', detail: 'key service unavailable' };
    }
    const key = verdict.key;
    const nowMs = this.now();
    if (!key || key.type !== parsed.type) return { ok: false, reason: 'bad_credentials', detail: 'invalid API key' };
    if (key.expiresAt !== null && key.expiresAt <= nowMs) return { ok: false, reason: 'bad_credentials', detail: 'key expired' };
    if (key.name !== target.subject || key.orgId !== target.orgId) {
      return { ok: false, reason: 'bad_credentials', detail: 'username does not match the key' };
    }
    if (verdict.allows && !verdict.allows(request.remoteAddress)) {
      this.options.count?.(key.keyId, 'denials');
      return { ok: false, reason: 'not_authorized', detail: 'address not in the key allowlist' };
    }
    const grants = verdict.permissions;
    if (grants !== null && grants.publish.length === 0 && grants.subscribe.length === 0) {
      // A restricted key without mqtt: scopes has no MQTT rights at all: say so at CONNECT.
      this.options.count?.(key.keyId, 'denials');
      return { ok: false, reason: 'not_authorized', detail: 'this restricted key has no mqtt: scopes' };
    }
    const permissions =
      verdict.permissions === null
        ? PermissionSet.all()
        : PermissionSet.fromTemplates(verdict.permissions, { user_id: key.name, org_id: key.orgId, client_id: request.clientId });
    return {
      ok: true,
      principal: {
        credentialId: key.keyId,
        kind: 'api_key',
        orgId: key.orgId,
        subject: key.name,
        expiresAt: key.expiresAt ?? Infinity,
        permissions,
        // The org's policy as of this verdict (a setting change reaches cached verdicts when they expire).
        willOnEnd: key.willOnRevoke === 'publish' ? 'publish' : 'suppress',
      },
    };
  }

  /** Drops every verdict about these key ids (a revocation event named them). */
  invalidate(keyIds: readonly string[]): void {
    this.epoch++;
    for (const id of keyIds) {
      const digests = this.byKeyId.get(id);
      if (!digests) continue;
      for (const d of [...digests]) this.cache.delete(d);
      this.byKeyId.delete(id);
    }
  }

  get size(): number {
    return this.cache.size;
  }

  private async verdict(secret: string, keyId: string, remoteAddress: string): Promise<CachedVerdict | 'throttled' | 'overloaded'> {
    const digest = createHash('sha256').update(secret).digest('hex');
    const cached = this.cache.get(digest);
    if (cached) {
      this.stats.cacheHits++;
      return cached;
    }
    const epoch = this.epoch;
    let pending = this.inFlight.get(digest);
    if (!pending) {
      this.stats.verifierCalls++;
      pending = this.options.verifier.verifyApiKey(secret, remoteAddress).finally(() => this.inFlight.delete(digest));
      this.inFlight.set(digest, pending);
    }
    const answer = await pending;
    if (answer.status === 'throttled') return answer.overloaded ? 'overloaded' : 'throttled';
    const nowMs = this.now();
    const ttl = Math.min(answer.cacheTtlMs, this.options.maxCacheMs ?? 60_000);
    const key = answer.status === 'valid' ? answer.key : null;
    const verdict: CachedVerdict = {
      keyId,
      key,
      allows: key ? compileAllowlist(key.ipAllowlist) : null,
      permissions: key && key.type === 'restricted' ? mqttGrants(key.scopes) : null,
    };
    // Not past the key's own expiry; a TTL of 0 would mean "forever" to the cache, so it is not stored.
    const cacheMs = Math.min(nowMs + ttl, key?.expiresAt ?? Infinity) - nowMs;
    // A revocation that landed while we were asking must not be undone by caching the older answer.
    if (epoch === this.epoch && cacheMs > 0) this.store(digest, verdict, cacheMs);
    return verdict;
  }

  private store(digest: string, verdict: CachedVerdict, ttl: number): void {
    this.cache.set(digest, verdict, { ttl });
    let set = this.byKeyId.get(verdict.keyId);
    if (!set) this.byKeyId.set(verdict.keyId, (set = new Set()));
    set.add(digest);
  }

  private unindex(keyId: string, digest: string): void {
    const set = this.byKeyId.get(keyId);
    if (!set) return;
    set.delete(digest);
    if (set.size === 0) this.byKeyId.delete(keyId);
  }
}

/**
 * Routes a CONNECT to the authenticator of its password's kind: `tkn_` →
 * tokens, `sk_`/`rk_` → keys. Anything else is refused without work.
 */
export class CredentialRouter implements ConnectAuthenticator {
  constructor(private readonly routes: { token: ConnectAuthenticator; key?: ConnectAuthenticator }) {}

  authenticate(request: ConnectRequest): AuthResult | Promise<AuthResult> {
    const p = request.password;
    // Compare the first bytes without decoding the whole password.
    if (this.routes.key && p && p.length > 3 && p[2] === 0x5f /* _ */ && (p[0] === 0x73 /* s */ || p[0] === 0x72) /* r */ && p[1] === 0x6b /* k */) {
      return this.routes.key.authenticate(request);
    }
    return this.routes.token.authenticate(request);
  }
}
