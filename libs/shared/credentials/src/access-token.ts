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

import { ACCESS_TOKEN_ALGS, DEFAULT_ACCESS_TOKEN_ALG, type AccessTokenAlg } from '@signet/contracts';
import type { Permissions } from '@signet/permissions';

/**
 * `tkn_` MQTT passwords: `tkn_` + a compact JWS, ES256 or RS256 (the signing key's algorithm; both verify).
 * ES256 by default: a token is signed once and verified about once per edge (the edge caches what it
 * verified), and per token that is ≈ 0.08 ms of CPU against RS256's ≈ 0.32 ms (on these machines, one
 * core: ES256 signs ≈ 39k/s and verifies ≈ 18k/s, RS256 ≈ 3.4k/s and ≈ 41k/s). RS256 stays for a
 * deployment whose edges verify each token many times (reconnect storms beyond the edge's cache).
 */
export const ACCESS_TOKEN_PREFIX = 'tkn_';
export { ACCESS_TOKEN_ALGS, DEFAULT_ACCESS_TOKEN_ALG, type AccessTokenAlg };
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

/** A published verification key: public members only (RFC 7517 §4; EC RFC 7518 §6.2.1, RSA §6.3.1). */
export type PublicSigningJwk = { kid: string; alg: AccessTokenAlg; use: 'sig' } & (
  | { kty: 'EC'; crv: string; x: string; y: string }
  | { kty: 'RSA'; n: string; e: string }
);

export interface SigningKey {
  kid: string;
  alg: AccessTokenAlg;
  privateKey: KeyLike;
  publicJwk: PublicSigningJwk;
}

/** The key type each algorithm needs (RFC 7518 §3.1). */
const KEY_TYPES: Record<AccessTokenAlg, string> = { ES256: 'EC', RS256: 'RSA' };

/**
 * The algorithm of a stored or published JWK: its `alg` when it is one of ours and fits its `kty`; a key
 * stored before `alg` was recorded on it is RS256 (the only one then). Throws for anything else.
 */
export function accessTokenAlgOf(jwk: JWK): AccessTokenAlg {
  const alg = jwk.alg ?? 'RS256';
  if (!(ACCESS_TOKEN_ALGS as readonly string[]).includes(alg) || KEY_TYPES[alg as AccessTokenAlg] !== jwk.kty) {
    throw new Error(`signing key ${jwk.kid ?? ''} has an unsupported algorithm (${alg}, ${jwk.kty ?? 'no kty'})`);
  }
  return alg as AccessTokenAlg;
}

/**
 * The public members of a signing JWK, member by member, nothing else: whatever else a stored row or a
 * private key holds, only these are ever published.
 */
export function publicSigningJwk(jwk: JWK, kid: string): PublicSigningJwk {
  const member = (name: 'crv' | 'x' | 'y' | 'n' | 'e'): string => {
    const value = jwk[name];
    if (typeof value !== 'string') throw new Error(`signing key ${kid} has an invalid public JWK (${name})`);
    return value;
  };
  const alg = accessTokenAlgOf(jwk);
  const common = { kid, alg, use: 'sig' as const };
  return alg === 'ES256'
    ? { kty: 'EC', crv: member('crv'), x: member('x'), y: member('y'), ...common }
    : { kty: 'RSA', n: member('n'), e: member('e'), ...common };
}

export async function generateSigningKey(alg: AccessTokenAlg = DEFAULT_ACCESS_TOKEN_ALG): Promise<SigningKey & { privateJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, alg === 'RS256' ? { modulusLength: 2048, extractable: true } : { extractable: true });
  const exported = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(exported);
  const privateJwk = await exportJWK(privateKey);
  return {
    kid,
    alg,
    privateKey,
    privateJwk: { ...privateJwk, kid, alg },
    publicJwk: publicSigningJwk({ ...exported, alg }, kid),
  };
}

export async function importSigningKey(privateJwk: JWK): Promise<SigningKey> {
  if (!privateJwk.kid) throw new Error('signing key without kid');
  const alg = accessTokenAlgOf(privateJwk);
  const privateKey = (await importJWK(privateJwk, alg)) as KeyLike;
  return { kid: privateJwk.kid, alg, privateKey, publicJwk: publicSigningJwk(privateJwk, privateJwk.kid) };
}

export async function signAccessToken(claims: AccessTokenClaims, key: SigningKey): Promise<string> {
  const { sub, org, jti, iat, exp, ...rest } = claims;
  const jws = await new SignJWT({ org, ...rest })
    .setProtectedHeader({ alg: key.alg, typ: ACCESS_TOKEN_TYP, kid: key.kid })
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

/** A published key, for verification: refused unless it is an ES256 or RS256 key (accessTokenAlgOf). */
export const importPublicJwk = async (jwk: JWK): Promise<KeyLike> => {
  const alg = accessTokenAlgOf(jwk);
  return (await importJWK({ ...jwk, alg }, alg)) as KeyLike;
};

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
 * Verifies `tkn_` tokens: shape and size first, then the algorithm is one of
 * ours (never `none` or HMAC) and must fit the key, which comes from `resolveKey` by kid
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
          // Asymmetric only, and the key found by kid must be of the header's type (jose checks it).
          algorithms: [...ACCESS_TOKEN_ALGS],
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
