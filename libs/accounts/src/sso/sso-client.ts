import { Inject, Injectable } from '@nestjs/common';
import type { Configuration, IDToken, TokenEndpointResponse, TokenEndpointResponseHelpers } from 'openid-client';
import type { Strategy as OidcStrategy } from 'openid-client/build/passport';
import passport from 'passport';

import { isLoopbackHost } from '@signet/net';
import { LOGGER } from '@signet/observability';
import type { Logger } from '@signet/observability';

import { ssoDiscoveryFailed, ssoProviderError } from '../errors';
import type { SsoConnection } from './sso.repository';

const DISCOVERY_TIMEOUT_S = 5;
/** Metadata and keys are refetched at least this often, so an IdP's key rotation is picked up. */
const CONFIGURATION_MAX_AGE_MS = 10 * 60_000;
const SCOPE = 'openid email profile';
/** Where the strategy keeps its authorization request state in `req.session`. */
const SESSION_KEY = 'sso';

/** What the browser is sent to, and the strategy's state for the callback (kept server side). */
export interface SsoAuthorizationRequest {
  url: string;
  state: string;
  /** openid-client's `{ code_verifier, state, nonce }`, handed back at the callback. */
  strategyState: Record<string, unknown>;
}

type Tokens = TokenEndpointResponse & TokenEndpointResponseHelpers;
type Verify = (tokens: Tokens, verified: (err: unknown, user?: unknown) => void) => void;

/** What passport ended with: a redirect, a user, or a failure / error. */
interface PassportOutcome {
  redirect?: string;
  user?: unknown;
  err?: unknown;
}

/**
 * The relying-party side of SSO: openid-client's passport Strategy (`openid-client/passport`) run by
 * passport for each step. It does discovery-based authorization code + PKCE S256 and validates the ID
 * token (signature from the discovered JWKS, iss, aud, exp, nonce); we add a random state and nonce to
 * every request (the strategy sends them only without PKCE support). Its `req.session` is ours: a
 * plain object whose content we keep server side between the two steps, so the sign-in needs no
 * session middleware and no cookie of its own. openid-client is ESM-only: loaded lazily, as the
 * federation feature does (jest.config.js compiles it for specs).
 */
@Injectable()
export class SsoClient {
  private readonly configurations = new Map<string, { key: string; at: number; config: Configuration }>();

  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  /** Discovery for a connection; throws `sso_discovery_failed`. Cached per connection version. */
  async configuration(connection: Pick<SsoConnection, 'id' | 'issuer' | 'clientId' | 'clientSecret' | 'updatedAt'>): Promise<Configuration> {
    const key = `${connection.issuer}\n${connection.clientId}\n${connection.updatedAt.getTime()}`;
    const cached = this.configurations.get(connection.id);
    if (cached && cached.key === key && Date.now() - cached.at < CONFIGURATION_MAX_AGE_MS) return cached.config;
    const client = await import('openid-client');
    const issuer = new URL(connection.issuer);
    // openid-client insists on https; plain http is accepted for loopback issuers (local use, test peers).
    const execute = issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname) ? [client.allowInsecureRequests] : [];
    try {
      const config = await client.discovery(issuer, connection.clientId, undefined, client.ClientSecretBasic(connection.clientSecret), { timeout: DISCOVERY_TIMEOUT_S, execute });
      this.configurations.set(connection.id, { key, at: Date.now(), config });
      return config;
    } catch (err) {
      this.logger.warn({ connectionId: connection.id, issuer: connection.issuer, reason: reason(err) }, 'SSO discovery failed');
      throw ssoDiscoveryFailed();
    }
  }

  async authorizationRequest(config: Configuration, redirectUri: string): Promise<SsoAuthorizationRequest> {
    const session: Record<string, Record<string, unknown>> = {};
    const outcome = await run(await strategy(config, redirectUri, () => undefined), { method: 'GET', url: '/', session });
    const strategyState = session[SESSION_KEY];
    if (!outcome.redirect || typeof strategyState?.state !== 'string') throw ssoProviderError();
    return { url: outcome.redirect, state: strategyState.state, strategyState };
  }

  /**
   * The provider's redirect back (`query` as received): the strategy redeems the code and validates
   * the ID token. Its claims, or `sso_provider_error` (an error answer of the IdP, a refused client
   * secret, a token that does not validate).
   */
  async callback(config: Configuration, redirectUri: string, query: string, strategyState: Record<string, unknown>): Promise<IDToken> {
    const client = await import('openid-client');
    const verify: Verify = (tokens, verified) => {
      const claims = tokens.claims();
      if (!claims) return verified(new Error('no ID token'));
      if (claims.email !== undefined) return verified(null, claims);
      // Providers that keep ID tokens small (OIDC Core §5.4) answer the e-mail at userinfo, for the same subject.
      client.fetchUserInfo(config, tokens.access_token, claims.sub).then(
        (info) => verified(null, { ...claims, email: info.email, email_verified: info.email_verified }),
        (err: unknown) => verified(err),
      );
    };
    const outcome = await run(await strategy(config, redirectUri, verify), { method: 'GET', url: `/?${query}`, session: { [SESSION_KEY]: strategyState } });
    if (outcome.user) return outcome.user as IDToken;
    // The OAuth error code or openid-client's, never a response body (it could echo a secret).
    this.logger.warn({ issuer: config.serverMetadata().issuer, reason: reason(outcome.err ?? 'refused') }, 'SSO sign-in refused');
    throw ssoProviderError();
  }
}

/** A subpath export, which our moduleResolution (node) does not read; the types come from the file itself. */
const PASSPORT_ENTRY: string = 'openid-client/passport';

/** openid-client's Strategy with a state and nonce on every request, and the callback URL as the current URL. */
async function strategy(config: Configuration, redirectUri: string, verify: Verify): Promise<OidcStrategy> {
  const { Strategy } = (await import(PASSPORT_ENTRY)) as typeof import('openid-client/build/passport');
  const { randomNonce, randomState } = await import('openid-client');
  class SignetSsoStrategy extends Strategy {
    override authorizationRequestParams<T extends object>(req: never, options: T) {
      const params = new URLSearchParams(super.authorizationRequestParams(req, options));
      params.set('state', randomState());
      params.set('nonce', randomNonce());
      return params;
    }

    override currentUrl(req: never): URL {
      return new URL((req as { url: string }).url, redirectUri);
    }
  }
  return new SignetSsoStrategy({ config, callbackURL: redirectUri, scope: SCOPE, sessionKey: SESSION_KEY }, verify as never);
}

/**
 * One passport run of `strategy` on a request of our own: a redirect is captured rather than sent
 * (the caller stores the state before the browser leaves), a user or an error is answered.
 */
function run(strategy: OidcStrategy, req: { method: string; url: string; session: Record<string, unknown> }): Promise<PassportOutcome> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = {};
    const res = {
      statusCode: 200,
      setHeader: (name: string, value: string) => (headers[name.toLowerCase()] = value),
      end: () => resolve({ redirect: headers['location'] }),
    };
    const middleware = passport.authenticate(strategy as never, { session: false }, (err: unknown, user: unknown) => resolve(err || !user ? { err: err ?? 'refused' } : { user }));
    (middleware as (req: unknown, res: unknown, next: (err?: unknown) => void) => void)(req, res, (err) => resolve({ err }));
  });
}

function reason(err: unknown): string {
  if (typeof err === 'string') return err;
  const e = err as { error?: unknown; code?: unknown; name?: unknown };
  return [e.error, e.code, e.name].find((v): v is string => typeof v === 'string') ?? 'unknown';
}
