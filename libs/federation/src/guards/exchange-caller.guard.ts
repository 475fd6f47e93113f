import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';

import { ApiKeyGuard, ApiKeyRequest, invalidApiKey } from '@signet/api-keys';
import { PublicRateLimiter } from '@signet/tokens';

import { FEDERATION_ERRORS, missingIdToken, refuse } from '../errors';

/** `Authorization: Bearer <credential>`; the scheme is case-insensitive (RFC 7235 §2.1). */
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const API_KEY_PREFIX = /^(sk|rk)_/;

export type ExchangeHttpRequest = ApiKeyRequest & { idpToken?: string };

/**
 * The two callers of POST /v1/federation/exchange. A backend sends
 * `id_token` in the body and authenticates with its own API key (the
 * {@link ApiKeyGuard}, whose failures are throttled on their own). Anything
 * else is an end-user device or browser whose Authorization header carries
 * the IdP token: unauthenticated here, the token is the credential, so it
 * counts against the address' public rate limit.
 */
@Injectable()
export class ExchangeCallerGuard implements CanActivate {
  constructor(
    private readonly apiKeys: ApiKeyGuard,
    private readonly rateLimit: PublicRateLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<ExchangeHttpRequest>();
    const header = request.headers.authorization;
    const bearer = header === undefined ? undefined : BEARER.exec(header)?.[1];
    if (header !== undefined && header !== '' && bearer === undefined) {
      throw refuse(FEDERATION_ERRORS.malformedToken, 'the Authorization header must be "Bearer <token>"');
    }
    if (hasIdToken(request.body)) {
      // Not a key at all: refused before verification, so it does not count as a guessed key.
      if (bearer !== undefined && !API_KEY_PREFIX.test(bearer)) throw invalidApiKey();
      return this.apiKeys.canActivate(context);
    }
    this.rateLimit.check(request.ip);
    if (bearer === undefined) throw refuse(FEDERATION_ERRORS.missingIdpToken, 'send the identity provider token as "Authorization: Bearer <token>"');
    // An API key where an IdP token belongs is a mistake worth naming (and must never be treated as a JWT).
    if (API_KEY_PREFIX.test(bearer)) throw missingIdToken();
    request.idpToken = bearer;
    return true;
  }
}

/** Whether the request is a backend's (the body validated later, by the route's DTO, in the same terms). */
export const hasIdToken = (body: unknown): boolean =>
  typeof body === 'object' && body !== null && (body as { id_token?: unknown }).id_token !== undefined;
