import {
  ACCESS_TOKEN_PREFIX,
  AccessTokenClaims,
  AccessTokenError,
  AccessTokenVerifier,
  DEFAULT_WILL_POLICY,
  parseMqttUsername,
  toPermissions,
} from '@signet/credentials';
import { LRUCache } from 'lru-cache';

import type { AuthResult, ConnectAuthenticator, ConnectRequest } from '@signet/mqtt-edge';
import { PermissionSet } from '@signet/permissions';

import type { PublicKeyCache } from './key-source';

type MqttUsername = NonNullable<ReturnType<typeof parseMqttUsername>>;

/** What the edge knows about revocations: O(1), in memory. */
export interface RevokedCredentials {
  has(credentialId: string): boolean;
}

export interface TokenAuthenticatorOptions {
  keys: PublicKeyCache;
  revoked: RevokedCredentials;
  /** False while the edge cannot vouch for revocation state (bus unreachable too long). */
  isFresh?: () => boolean;
  now?: () => number;
  /** Verified tokens kept, so a reconnect storm does not re-verify signatures. */
  cacheSize?: number;
  /** The token service's maximum TTL (SIGNET_TOKEN_MAX_TTL): a token claiming a longer life is refused. */
  maxTokenLifetimeSeconds?: number;
}

/**
 * Accepts `tkn_` passwords at CONNECT, locally: signature against the token
 * service's published keys, expiry, revocation, username and client id
 * binding. No database or network call per CONNECT (a key fetch happens only
 * for a kid never seen before).
 */
export class TokenAuthenticator implements ConnectAuthenticator {
  private readonly verifier: AccessTokenVerifier;
  /**
   * Least recently used tokens go first. No TTL: check() refuses an expired
   * token itself, synchronously, so a client retrying one costs no signature check.
   */
  private readonly verified: LRUCache<string, VerifiedToken>;
  private readonly now: () => number;

  constructor(private readonly options: TokenAuthenticatorOptions) {
    this.verifier = new AccessTokenVerifier(options.keys.resolve, { maxLifetimeSeconds: options.maxTokenLifetimeSeconds });
    this.now = options.now ?? Date.now;
    this.verified = new LRUCache({ max: options.cacheSize ?? 10000 });
  }

  authenticate(request: ConnectRequest): AuthResult | Promise<AuthResult> {
    const { username, password } = request;
    if (!username || !password) return { ok: false, reason: 'bad_credentials', detail: 'username and password required' };
    const target = parseMqttUsername(username);
    if (!target) return { ok: false, reason: 'bad_credentials', detail: 'username must be <user_id>@<org_id>' };
    const secret = password.toString('utf8');
    if (!secret.startsWith(ACCESS_TOKEN_PREFIX)) return { ok: false, reason: 'bad_credentials', detail: 'unsupported credential' };
    // A token verified before is answered synchronously: no promise and no microtask hop per
    // reconnect (the edge takes a plain AuthResult), which counts in a CONNECT storm.
    const cached = this.verified.get(secret);
    if (cached !== undefined) return this.check(cached, target, request);
    return this.verify(secret).then(
      (token) => this.check(token, target, request),
      (err: unknown) => {
        const code = err instanceof AccessTokenError ? err.code : 'malformed';
        return { ok: false, reason: 'bad_credentials', detail: `token ${code}` };
      },
    );
  }

  /** Everything after the signature: expiry, username, freshness, deny list, client id binding. */
  private check(token: VerifiedToken, target: MqttUsername, request: ConnectRequest): AuthResult {
    const claims = token.claims;
    const nowMs = this.now();
    if (claims.exp * 1000 <= nowMs) return { ok: false, reason: 'bad_credentials', detail: 'token expired' };
    if (claims.sub !== target.subject || claims.org !== target.orgId) {
      return { ok: false, reason: 'bad_credentials', detail: 'username does not match the token' };
    }
    if (this.options.isFresh && !this.options.isFresh()) {
      return { ok: false, reason: 'server_unavailable', detail: 'revocation state is stale' };
    }
    if (this.options.revoked.has(claims.jti)) return { ok: false, reason: 'bad_credentials', detail: 'token revoked' };
    if (claims.cid !== undefined && claims.cid !== request.clientId) {
      return { ok: false, reason: 'not_authorized', detail: 'token is bound to another client id' };
    }
    return {
      ok: true,
      principal: {
        credentialId: claims.jti,
        kind: 'token',
        orgId: claims.org,
        subject: claims.sub,
        expiresAt: claims.exp * 1000,
        permissions: this.permissionsFor(token, claims, request.clientId),
        // The verifier keeps `will` only when it is 'publish' (checkClaims).
        willOnEnd: claims.will ?? DEFAULT_WILL_POLICY,
      },
    };
  }

  /**
   * Grants without `{client_id}` are the same for every connection of a
   * token: expanded once and shared (with their publish-verdict cache).
   */
  private permissionsFor(token: VerifiedToken, claims: AccessTokenClaims, clientId: string): PermissionSet {
    const build = () =>
      PermissionSet.fromTemplates(toPermissions(claims), { user_id: claims.sub, org_id: claims.org, client_id: clientId });
    if (token.perClient) return build();
    token.shared ??= build();
    return token.shared;
  }

  private async verify(secret: string): Promise<VerifiedToken> {
    const cached = this.verified.get(secret);
    if (cached) return cached;
    const claims = await this.verifier.verify(secret, Math.floor(this.now() / 1000));
    const perClient = [...claims.perm.pub, ...claims.perm.sub].some((t) => t.includes('{client_id}'));
    const entry: VerifiedToken = { claims, perClient };
    this.verified.set(secret, entry);
    return entry;
  }
}

interface VerifiedToken {
  claims: AccessTokenClaims;
  /** Some grant names `{client_id}`: permissions differ per connection. */
  perClient: boolean;
  shared?: PermissionSet;
}
