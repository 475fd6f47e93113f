import { decodeProtectedHeader, importSPKI, JWTPayload, KeyLike } from 'jose';

import type { IdpProviderKind } from '@signet/persistence';

import { FEDERATION_ERRORS, refuse } from '../errors';
import type { ProviderSettings } from '../providers/settings';
import type { OidcDiscovery } from './discovery';
import type { JwksRegistry } from './jwks-cache';
import { checkTokenShape, isHmac, VerificationPolicy, verifyIdpJwt } from './jwt';

/** Verifies one provider's tokens; one implementation per kind, all built on {@link verifyIdpJwt}. */
export interface IdpTokenVerifier {
  verify(token: string): Promise<JWTPayload>;
}

export interface VerifierDeps {
  jwks: JwksRegistry;
  discovery: OidcDiscovery;
  /** Where Google publishes the securetoken keys (JWK set); overridable for tests and egress proxies. */
  firebaseJwksUri: string;
  clockToleranceSeconds: number;
  now?: () => number;
}

/** Google's JWK set for Firebase ID tokens (the same keys as the X.509 map at .../metadata/x509/securetoken@…). */
export const FIREBASE_JWKS_URI = 'https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com';

type PolicyFactory = (settings: ProviderSettings, secret: string | null, deps: VerifierDeps) => () => Promise<VerificationPolicy>;

const required = (value: string | undefined, name: string): string => {
  // Settings were validated when stored; a missing one here means the row was edited by hand.
  if (value === undefined) throw new Error(`provider setting ${name} is missing`);
  return value;
};

/** A `kid` is required to pick a key from a JWK set: the header may only select among the IdP's keys. */
const fromJwks = (deps: VerifierDeps, url: string) => (alg: string, kid: string | undefined) => {
  if (kid === undefined) return Promise.reject(refuse(FEDERATION_ERRORS.unknownKey, 'the token header names no key (kid)'));
  return deps.jwks.get(url).getKey(kid, alg);
};

const hmacKey = (secret: string): Uint8Array => new TextEncoder().encode(secret);

/**
 * Supabase: `iss` = `<project_url>/auth/v1`, `aud` = `authenticated` unless
 * configured. Asymmetric keys (ES256, RS256) from the project's JWKS; with
 * `jwt_secret`, also the legacy HS256 secret (used as its UTF-8 bytes). The
 * algorithm decides the key source, so an HS256 token is never checked
 * against a public key or the reverse.
 */
const supabase: PolicyFactory = (settings, secret, deps) => {
  const base = `${required(settings.project_url, 'project_url')}/auth/v1`;
  const jwks = fromJwks(deps, `${base}/.well-known/jwks.json`);
  const policy: VerificationPolicy = {
    issuer: base,
    audience: settings.audience ?? 'authenticated',
    algorithms: secret === null ? ['ES256', 'RS256'] : ['HS256', 'ES256', 'RS256'],
    resolveKey: async (alg, kid) => (alg === 'HS256' && secret !== null ? hmacKey(secret) : jwks(alg, kid)),
    check: requireSubject,
  };
  return async () => policy;
};

/** Firebase: RS256 with Google's securetoken keys, `aud` = project id, `iss` = securetoken URL, non-empty `sub`, `auth_time` in the past. */
const firebase: PolicyFactory = (settings, _secret, deps) => {
  const projectId = required(settings.project_id, 'project_id');
  const policy: VerificationPolicy = {
    issuer: `https://securetoken.google.com/${projectId}`,
    audience: projectId,
    algorithms: ['RS256'],
    resolveKey: fromJwks(deps, deps.firebaseJwksUri),
    check: (claims, now, tolerance) => {
      requireSubject(claims);
      // Firebase: sub is at most 128 characters (the uid).
      if ((claims.sub ?? '').length > 128) throw refuse(FEDERATION_ERRORS.invalidClaims, 'the token sub claim is too long');
      const authTime = claims['auth_time'];
      if (typeof authTime !== 'number' || authTime > now + tolerance) {
        throw refuse(FEDERATION_ERRORS.invalidClaims, 'the token auth_time claim must be a time in the past');
      }
    },
  };
  return async () => policy;
};

/** Auth0: RS256, `iss` = `https://<domain>/` (with the trailing slash Auth0 uses), `aud` = the API identifier (or client id for ID tokens). */
const auth0: PolicyFactory = (settings, _secret, deps) => {
  const domain = required(settings.domain, 'domain');
  const origin = domain.includes('://') ? domain : `https://${domain}`;
  const policy: VerificationPolicy = {
    issuer: `${origin}/`,
    audience: required(settings.audience, 'audience'),
    algorithms: ['RS256'],
    resolveKey: fromJwks(deps, `${origin}/.well-known/jwks.json`),
    check: requireSubject,
  };
  return async () => policy;
};

/**
 * Clerk: RS256 session tokens, `iss` = the Frontend API URL, keys at
 * `<issuer>/.well-known/jwks.json`. Session tokens carry no `aud` (checked
 * only when configured); `azp` (the origin that requested the token) is
 * checked against `authorized_parties` when given, as Clerk recommends.
 */
const clerk: PolicyFactory = (settings, _secret, deps) => {
  const issuer = required(settings.issuer, 'issuer');
  const parties = settings.authorized_parties;
  const policy: VerificationPolicy = {
    issuer,
    audience: settings.audience,
    algorithms: ['RS256'],
    resolveKey: fromJwks(deps, `${issuer}/.well-known/jwks.json`),
    check: (claims) => {
      requireSubject(claims);
      if (parties && parties.length > 0) {
        const azp = claims['azp'];
        if (typeof azp !== 'string' || !parties.includes(azp)) throw refuse(FEDERATION_ERRORS.invalidClaims, 'the token azp claim is not an authorized party');
      }
    },
  };
  return async () => policy;
};

/** Any OpenID Provider: `jwks_uri` and algorithms from discovery (asymmetric only), or the configured `algorithms`. */
const oidc: PolicyFactory = (settings, _secret, deps) => {
  const issuer = required(settings.issuer, 'issuer');
  return async () => {
    const discovered = await deps.discovery.metadata(issuer);
    return {
      issuer: discovered.issuer,
      audience: settings.audience,
      algorithms: settings.algorithms ?? discovered.algorithms,
      resolveKey: fromJwks(deps, discovered.jwksUri),
      check: requireSubject,
    };
  };
};

/** A generic JWT issuer: `jwks_uri`, a PEM public key or a shared secret, with pinned `algorithms`. */
const jwt: PolicyFactory = (settings, secret, deps) => {
  const algorithms = settings.algorithms ?? [];
  const pemKeys = new Map<string, Promise<KeyLike>>();
  let resolveKey: VerificationPolicy['resolveKey'];
  if (secret !== null) {
    resolveKey = async (alg) => {
      if (!isHmac(alg)) throw refuse(FEDERATION_ERRORS.unsupportedAlgorithm, 'this provider accepts HMAC algorithms only');
      return hmacKey(secret);
    };
  } else if (settings.public_key !== undefined) {
    const pem = settings.public_key;
    resolveKey = (alg) => {
      let key = pemKeys.get(alg);
      if (!key) {
        key = importSPKI(pem, alg);
        pemKeys.set(alg, key);
      }
      return key;
    };
  } else {
    resolveKey = fromJwks(deps, required(settings.jwks_uri, 'jwks_uri'));
  }
  const policy: VerificationPolicy = {
    issuer: required(settings.issuer, 'issuer'),
    audience: required(settings.audience, 'audience'),
    algorithms,
    resolveKey,
    // No sub requirement: a custom issuer may name its users in another claim (user_id_claim).
  };
  return async () => policy;
};

function requireSubject(claims: JWTPayload): void {
  if (typeof claims.sub !== 'string' || claims.sub.length === 0) throw refuse(FEDERATION_ERRORS.invalidClaims, 'the token has no subject (sub)');
}

const FACTORIES: Record<IdpProviderKind, PolicyFactory> = { supabase, firebase, auth0, clerk, oidc, jwt };

export function createVerifier(kind: IdpProviderKind, settings: ProviderSettings, secret: string | null, deps: VerifierDeps): IdpTokenVerifier {
  const policy = FACTORIES[kind](settings, secret, deps);
  return {
    verify: async (token) => {
      // Before discovery: a malformed token must not cause a fetch.
      checkTokenShape(token);
      return verifyIdpJwt(token, await policy(), { clockToleranceSeconds: deps.clockToleranceSeconds, nowMs: deps.now?.() });
    },
  };
}

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/**
 * OIDC Back-Channel Logout 1.0 §2.6: the logout token is checked like an ID
 * token of this provider (pinned algorithms, the provider's keys, `iss`,
 * `aud` = the provider's `audience`, the client id, `iat`, `exp`), then: an
 * `events` object with the back-channel-logout member, a `jti`, a `sid` and/or
 * a `sub`, and no `nonce`. The `typ` header, when present, must be `logout+jwt`.
 */
export function createLogoutVerifier(kind: IdpProviderKind, settings: ProviderSettings, secret: string | null, deps: VerifierDeps): IdpTokenVerifier {
  const policy = FACTORIES[kind](settings, secret, deps);
  return {
    verify: async (token) => {
      checkTokenShape(token);
      const base = await policy();
      let header: { typ?: unknown };
      try {
        header = decodeProtectedHeader(token);
      } catch {
        throw refuse(FEDERATION_ERRORS.malformedToken, 'the token header is not JSON');
      }
      if (header.typ !== undefined && header.typ !== 'logout+jwt' && header.typ !== 'JWT') {
        throw refuse(FEDERATION_ERRORS.malformedToken, 'the logout token typ must be logout+jwt');
      }
      return verifyIdpJwt(token, { ...base, audience: settings.audience, check: checkLogoutClaims }, { clockToleranceSeconds: deps.clockToleranceSeconds, nowMs: deps.now?.() });
    },
  };
}

function checkLogoutClaims(claims: JWTPayload): void {
  const events = claims['events'];
  if (typeof events !== 'object' || events === null || Array.isArray(events) || !(BACKCHANNEL_LOGOUT_EVENT in events)) {
    throw refuse(FEDERATION_ERRORS.invalidClaims, `the logout token has no events claim with ${BACKCHANNEL_LOGOUT_EVENT}`);
  }
  const member = (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT];
  if (typeof member !== 'object' || member === null || Array.isArray(member)) throw refuse(FEDERATION_ERRORS.invalidClaims, 'the back-channel-logout event must be a JSON object');
  if (typeof claims.jti !== 'string' || claims.jti.length === 0 || claims.jti.length > 256) throw refuse(FEDERATION_ERRORS.invalidClaims, 'the logout token has no jti');
  const sid = claims['sid'];
  const hasSid = typeof sid === 'string' && sid.length > 0;
  const hasSub = typeof claims.sub === 'string' && claims.sub.length > 0;
  if (!hasSid && !hasSub) throw refuse(FEDERATION_ERRORS.invalidClaims, 'the logout token names neither a sid nor a sub');
  if (sid !== undefined && !hasSid) throw refuse(FEDERATION_ERRORS.invalidClaims, 'the logout token sid must be a non-empty string');
  if ('nonce' in claims) throw refuse(FEDERATION_ERRORS.invalidClaims, 'a logout token must not contain a nonce');
}
