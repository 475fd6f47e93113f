import { errors, jwtVerify, JWTPayload, KeyLike } from 'jose';

import { FEDERATION_ERRORS, refuse } from '../errors';

/** Larger than any real IdP token (Auth0 tokens with many custom claims stay under 8 KiB); checked before decoding anything. */
export const MAX_IDP_TOKEN_LENGTH = 16 * 1024;
const MAX_HEADER_LENGTH = 2048;
const MAX_KID_LENGTH = 256;
/** Compact JWS only: three base64url segments, none empty (an empty signature is `alg: none`). JWE (five parts) is refused. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
export const isAsymmetric = (alg: string): boolean => (ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg);
export const isHmac = (alg: string): boolean => (HMAC_ALGORITHMS as readonly string[]).includes(alg);

/** What one provider accepts. Built from its stored settings, never from the token. */
export interface VerificationPolicy {
  issuer: string;
  /** Accepted `aud` values (any one of them); undefined: `aud` is not checked (an `oidc` provider without `audience`). */
  audience?: string | string[];
  /** Pinned: a token naming any other `alg` is refused before a key is looked up. */
  algorithms: readonly string[];
  /** The key for a pinned `alg` (and the header's `kid`), from the provider's own configuration. */
  resolveKey(alg: string, kid: string | undefined): Promise<KeyLike | Uint8Array>;
  /** Checks of this kind of IdP, run after the signature and the standard claims. */
  check?(claims: JWTPayload, nowSeconds: number, toleranceSeconds: number): void;
}

export interface VerifyOptions {
  /** Bounded clock skew for `exp`, `nbf` and `iat`. */
  clockToleranceSeconds: number;
  nowMs?: number;
}

/**
 * Verifies an IdP's JWT: size and shape first, the header's `alg` against the
 * pinned list, the key from the provider's configuration only (header members
 * such as `jwk`, `jku`, `x5u`, `x5c` are never used), the signature, then
 * `iss`, `aud`, `exp`, `nbf` and `iat` with a bounded skew. Every refusal is a
 * 401 ProblemError with a stable code.
 */
export async function verifyIdpJwt(token: string, policy: VerificationPolicy, options: VerifyOptions): Promise<JWTPayload> {
  checkTokenShape(token);
  const header = decodeHeader(token.slice(0, token.indexOf('.')));
  const alg = header.alg;
  if (typeof alg !== 'string' || !policy.algorithms.includes(alg)) {
    throw refuse(FEDERATION_ERRORS.unsupportedAlgorithm, `this provider accepts ${policy.algorithms.join(', ')} only`);
  }
  if (header.crit !== undefined) throw refuse(FEDERATION_ERRORS.malformedToken, 'tokens with critical header parameters are not accepted');
  const kid = header.kid;
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH)) {
    throw refuse(FEDERATION_ERRORS.malformedToken, 'the token header has an invalid kid');
  }
  const key = await policy.resolveKey(alg, kid);
  const nowMs = options.nowMs ?? Date.now();
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: [alg],
      issuer: policy.issuer,
      audience: policy.audience,
      clockTolerance: options.clockToleranceSeconds,
      currentDate: new Date(nowMs),
      requiredClaims: ['exp', 'iat'],
    }));
  } catch (err) {
    throw mapJoseError(err);
  }
  const nowSeconds = Math.floor(nowMs / 1000);
  // jose only checks that iat is a number; a token issued in the future is refused like one not yet valid.
  if (typeof payload.iat === 'number' && payload.iat > nowSeconds + options.clockToleranceSeconds) {
    throw refuse(FEDERATION_ERRORS.tokenNotYetValid, 'the token was issued in the future (iat)');
  }
  policy.check?.(payload, nowSeconds, options.clockToleranceSeconds);
  return payload;
}

/** Size and shape, before anything is decoded or fetched. */
export function checkTokenShape(token: string): void {
  if (token.length === 0 || token.length > MAX_IDP_TOKEN_LENGTH) {
    throw refuse(FEDERATION_ERRORS.malformedToken, `the token must be 1 to ${MAX_IDP_TOKEN_LENGTH} characters`);
  }
  if (!COMPACT_JWS.test(token)) throw refuse(FEDERATION_ERRORS.malformedToken, 'the token is not a signed JWT (compact JWS)');
}

function decodeHeader(segment: string): Record<string, unknown> {
  if (segment.length > MAX_HEADER_LENGTH) throw refuse(FEDERATION_ERRORS.malformedToken, 'the token header is too large');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw refuse(FEDERATION_ERRORS.malformedToken, 'the token header is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw refuse(FEDERATION_ERRORS.malformedToken, 'the token header is not a JSON object');
  }
  return value as Record<string, unknown>;
}

function mapJoseError(err: unknown): Error {
  if (err instanceof errors.JWTExpired) return refuse(FEDERATION_ERRORS.tokenExpired, 'the token has expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return refuse(FEDERATION_ERRORS.invalidIssuer, 'the token was not issued by this provider (iss)');
    if (err.claim === 'aud') return refuse(FEDERATION_ERRORS.invalidAudience, 'the token is not meant for this audience (aud)');
    if (err.claim === 'nbf') return refuse(FEDERATION_ERRORS.tokenNotYetValid, 'the token is not valid yet (nbf)');
    return refuse(FEDERATION_ERRORS.invalidClaims, `the token's ${err.claim} claim is ${err.reason === 'missing' ? 'missing' : 'invalid'}`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return refuse(FEDERATION_ERRORS.invalidSignature, 'the token signature is invalid');
  if (err instanceof errors.JOSEAlgNotAllowed) return refuse(FEDERATION_ERRORS.unsupportedAlgorithm, 'the token algorithm is not accepted');
  if (err instanceof errors.JOSEError) return refuse(FEDERATION_ERRORS.malformedToken, 'the token is malformed');
  return refuse(FEDERATION_ERRORS.malformedToken, 'the token cannot be verified');
}
