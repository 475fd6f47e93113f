import {
  calculateJwkThumbprint,
  errors as joseErrors,
  exportJWK,
  generateKeyPair,
  importJWK,
  JWK,
  jwtVerify,
  KeyLike,
  SignJWT,
} from 'jose';

import type { Permissions } from '@signet/permissions';

/**
 * `tkn_` MQTT passwords: `tkn_` + a compact JWS (RS256). RS256 because the
 * edge verifies far more often than the token service signs: on these
 * machines RS256 verifies ≈30k/s per core against ES256's ≈8k/s.
 */
export const ACCESS_TOKEN_PREFIX = 'tkn_';
export const ACCESS_TOKEN_ALG = 'RS256';
export const ACCESS_TOKEN_TYP = 'tkn+jwt';
/** Refuse anything larger before decoding (a token with many permissions is still far below). */
export const MAX_ACCESS_TOKEN_LENGTH = 16 * 1024;
/**
 * `iss` and `aud` of every `tkn_` (RFC 8725 §3.8, §3.9): a JWT signed with the same key for
 * another purpose, or by another deployment sharing it, is not a Signet MQTT password.
 */
export const ACCESS_TOKEN_ISSUER = 'signet';
export const ACCESS_TOKEN_AUDIENCE = 'signet:mqtt';
/** The seconds of clock skew between the token service and a verifier that are forgiven. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5;

/**
 * What happens to a session's will when its credential is revoked or expires
 * (an org setting, carried in the token so the edge needs no lookup).
 */
export const WILL_POLICIES = ['suppress', 'publish'] as const;
export type WillPolicy = (typeof WILL_POLICIES)[number];
export const DEFAULT_WILL_POLICY: WillPolicy = 'suppress';

export interface AccessTokenClaims {
  /** user id */
  sub: string;
  /** org id */
  org: string;
  /** token id, what revocation names */
  jti: string;
  iat: number;
  exp: number;
  /** permission templates; placeholders are filled by the edge at CONNECT */
  perm: { pub: string[]; sub: string[] };
  /** when set, the token only connects with this MQTT client id */
  cid?: string;
  /**
   * Will policy on revoke/expiry, only present for `publish`: default tokens
   * stay the same size. Absent (or any other value): suppress.
   */
  will?: 'publish';
}

export const toPermissions = (claims: AccessTokenClaims): Permissions => ({
  publish: claims.perm.pub,
  subscribe: claims.perm.sub,
});

export interface SigningKey {
  kid: string;
  privateKey: KeyLike;
  publicJwk: JWK;
}

export async function generateSigningKey(): Promise<SigningKey & { privateJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair(ACCESS_TOKEN_ALG, { modulusLength: 2048, extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateJwk = await exportJWK(privateKey);
  return {
    kid,
    privateKey,
    privateJwk: { ...privateJwk, kid, alg: ACCESS_TOKEN_ALG },
    publicJwk: { ...publicJwk, kid, alg: ACCESS_TOKEN_ALG, use: 'sig' },
  };
}

export async function importSigningKey(privateJwk: JWK): Promise<SigningKey> {
  if (!privateJwk.kid) throw new Error('signing key without kid');
  const privateKey = (await importJWK(privateJwk, ACCESS_TOKEN_ALG)) as KeyLike;
  const { n, e, kty } = privateJwk;
  return {
    kid: privateJwk.kid,
    privateKey,
    publicJwk: { kty, n, e, kid: privateJwk.kid, alg: ACCESS_TOKEN_ALG, use: 'sig' },
  };
}

export async function signAccessToken(claims: AccessTokenClaims, key: SigningKey): Promise<string> {
  const { sub, org, jti, iat, exp, ...rest } = claims;
  const jws = await new SignJWT({ org, ...rest })
    .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, typ: ACCESS_TOKEN_TYP, kid: key.kid })
    .setIssuer(ACCESS_TOKEN_ISSUER)
    .setAudience(ACCESS_TOKEN_AUDIENCE)
    .setSubject(sub)
    .setJti(jti)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(key.privateKey);
  return ACCESS_TOKEN_PREFIX + jws;
}

export type AccessTokenErrorCode = 'malformed' | 'unknown_key' | 'invalid_signature' | 'expired' | 'invalid_claims';

export class AccessTokenError extends Error {
  constructor(
    readonly code: AccessTokenErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AccessTokenError';
  }
}

/** Resolves a verification key by kid; may fetch. Returns undefined for an unknown kid. */
export type PublicKeyResolver = (kid: string) => KeyLike | Uint8Array | undefined | Promise<KeyLike | Uint8Array | undefined>;

export const importPublicJwk = async (jwk: JWK): Promise<KeyLike> =>
  (await importJWK({ ...jwk, alg: ACCESS_TOKEN_ALG }, ACCESS_TOKEN_ALG)) as KeyLike;

const SHAPE = /^tkn_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function checkClaims(payload: Record<string, unknown>): AccessTokenClaims {
  const { sub, org, jti, iat, exp, perm, cid, will } = payload;
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
  const p = perm as { pub?: unknown; sub?: unknown } | undefined;
  if (
    typeof sub !== 'string' ||
    typeof org !== 'string' ||
    typeof jti !== 'string' ||
    typeof iat !== 'number' ||
    typeof exp !== 'number' ||
    !p ||
    !strings(p.pub) ||
    !strings(p.sub) ||
    (cid !== undefined && typeof cid !== 'string')
  ) {
    throw new AccessTokenError('invalid_claims', 'token claims are incomplete');
  }
  return {
    sub,
    org,
    jti,
    iat,
    exp,
    perm: { pub: p.pub, sub: p.sub },
    ...(cid === undefined ? {} : { cid }),
    // An unknown value (from a newer token service) falls back to the default, suppress.
    ...(will === 'publish' ? { will } : {}),
  };
}

export interface AccessTokenVerifierOptions {
  /** Skew forgiven on `exp` and on an `iat` ahead of this clock. */
  clockToleranceSeconds?: number;
  /**
   * Refuse a token whose `exp - iat` is longer (the token service's SIGNET_TOKEN_MAX_TTL): a token
   * signed with a stolen or misused key cannot outlive what the service would ever issue.
   */
  maxLifetimeSeconds?: number;
}

/**
 * Verifies `tkn_` tokens: shape and size first, then the algorithm is pinned
 * (the header cannot choose it), the key comes from `resolveKey` by kid
 * (never from the token), then signature, `exp`, issuer, audience, an `iat`
 * not in the future, the lifetime, and the claim set (RFC 8725: claims are
 * checked even when the signature is good).
 */
export class AccessTokenVerifier {
  private readonly clockToleranceSeconds: number;
  private readonly maxLifetimeSeconds: number | undefined;

  constructor(
    private readonly resolveKey: PublicKeyResolver,
    options: number | AccessTokenVerifierOptions = {},
  ) {
    const o = typeof options === 'number' ? { clockToleranceSeconds: options } : options;
    this.clockToleranceSeconds = o.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
    this.maxLifetimeSeconds = o.maxLifetimeSeconds;
  }

  async verify(token: string, nowSeconds?: number): Promise<AccessTokenClaims> {
    if (token.length > MAX_ACCESS_TOKEN_LENGTH || !SHAPE.test(token)) {
      throw new AccessTokenError('malformed', 'not a tkn_ token');
    }
    try {
      const { payload } = await jwtVerify(
        token.slice(ACCESS_TOKEN_PREFIX.length),
        async (header) => {
          if (!header.kid) throw new AccessTokenError('malformed', 'token header has no kid');
          const key = await this.resolveKey(header.kid);
          if (!key) throw new AccessTokenError('unknown_key', 'token signed by an unknown key');
          return key;
        },
        {
          algorithms: [ACCESS_TOKEN_ALG],
          typ: ACCESS_TOKEN_TYP,
          issuer: ACCESS_TOKEN_ISSUER,
          audience: ACCESS_TOKEN_AUDIENCE,
          clockTolerance: this.clockToleranceSeconds,
          requiredClaims: ['iss', 'aud', 'sub', 'jti', 'iat', 'exp'],
          ...(nowSeconds === undefined ? {} : { currentDate: new Date(nowSeconds * 1000) }),
        },
      );
      const claims = checkClaims(payload);
      this.checkTimes(claims, nowSeconds ?? Math.floor(Date.now() / 1000));
      return claims;
    } catch (err) {
      throw toAccessTokenError(err);
    }
  }

  /** jose checks `iat` only for being a number; a future one or a lifetime past the cap is refused here. */
  private checkTimes(claims: AccessTokenClaims, nowSeconds: number): void {
    if (claims.iat > nowSeconds + this.clockToleranceSeconds) {
      throw new AccessTokenError('invalid_claims', 'token claim check failed: iat is in the future');
    }
    if (claims.exp <= claims.iat) throw new AccessTokenError('invalid_claims', 'token claim check failed: exp is not after iat');
    if (this.maxLifetimeSeconds !== undefined && claims.exp - claims.iat > this.maxLifetimeSeconds) {
      throw new AccessTokenError('invalid_claims', 'token claim check failed: lifetime exceeds the maximum TTL');
    }
  }
}

function toAccessTokenError(err: unknown): AccessTokenError {
  if (err instanceof AccessTokenError) return err;
  if (err instanceof joseErrors.JWTExpired) return new AccessTokenError('expired', 'token has expired');
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
    return new AccessTokenError('invalid_signature', 'token signature is invalid');
  }
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    return new AccessTokenError('invalid_claims', `token claim check failed: ${err.claim}`);
  }
  return new AccessTokenError('malformed', 'token could not be decoded');
}
