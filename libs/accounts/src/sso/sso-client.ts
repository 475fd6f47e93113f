import { Inject, Injectable } from '@nestjs/common';
import type { Configuration, IDToken } from 'openid-client';

import { isLoopbackHost } from '@signet/net';
import { LOGGER } from '@signet/observability';
import type { Logger } from '@signet/observability';

import { ssoDiscoveryFailed, ssoProviderError } from '../errors';
import type { SsoConnection } from './sso.repository';

const DISCOVERY_TIMEOUT_S = 5;
/** Metadata and keys are refetched at least this often, so an IdP's key rotation is picked up. */
const CONFIGURATION_MAX_AGE_MS = 10 * 60_000;
const SCOPE = 'openid email profile';

/** What the browser is sent to, and what the callback must present again (kept server side). */
export interface SsoAuthorizationRequest {
  url: string;
  state: string;
  nonce: string;
  codeVerifier: string;
}

type OpenIdClient = typeof import('openid-client');

/**
 * The relying-party side of SSO through openid-client: discovery (the document must name the
 * configured issuer), authorization code + PKCE S256 with state and nonce, and the ID token's
 * validation (signature from the discovered JWKS, iss, aud, exp, nonce). openid-client is ESM-only:
 * loaded lazily as the federation feature does (jest.config.js compiles it for specs).
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
    const client = await openIdClient();
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
    const client = await openIdClient();
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: SCOPE,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url: url.href, state, nonce, codeVerifier };
  }

  /**
   * Redeems the code of the callback and validates the ID token; its claims, or `sso_provider_error`
   * (an error answer of the IdP, a refused client secret, a token that does not validate).
   */
  async callback(config: Configuration, callbackUrl: URL, expected: Pick<SsoAuthorizationRequest, 'state' | 'nonce' | 'codeVerifier'>): Promise<IDToken> {
    const client = await openIdClient();
    try {
      const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: expected.codeVerifier,
        expectedState: expected.state,
        expectedNonce: expected.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      if (!claims) throw new Error('no ID token');
      if (claims.email !== undefined) return claims;
      // Providers that keep ID tokens small (OIDC Core §5.4) answer the e-mail at userinfo, for the same subject.
      const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
      return { ...claims, email: info.email, email_verified: info.email_verified };
    } catch (err) {
      // The OAuth error code or openid-client's, never the response body (it could echo a secret).
      this.logger.warn({ issuer: config.serverMetadata().issuer, reason: reason(err) }, 'SSO sign-in refused');
      throw ssoProviderError();
    }
  }
}

const openIdClient = (): Promise<OpenIdClient> => import('openid-client');

function reason(err: unknown): string {
  const e = err as { error?: unknown; code?: unknown; name?: unknown };
  return [e.error, e.code, e.name].find((v): v is string => typeof v === 'string') ?? 'unknown';
}
