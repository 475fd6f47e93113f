import { Inject, Injectable } from '@nestjs/common';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy as CustomStrategy } from 'passport-custom';

import { bearerToken, invalidApiKey, isApiKeyBearer, SESSION_VERIFIER, SessionPrincipal, SessionVerifier, verifiedSession } from '@signet/api-keys';

import { sessionRequired } from '../errors';

/** The passport name of the sign-in session strategy. */
export const SESSION_STRATEGY = 'signet-session';

/**
 * A signed-in person's session as a passport strategy (@nestjs/passport, passport-custom): the bearer
 * access token of the authorization server (/oidc), never an API key (401 `session_required`). For
 * routes only people use (their own account). Routes an API key may call stay on ApiKeyGuard, which
 * accepts sessions too, with no passport machinery on the API-key hot path (docs/sign-in.md).
 */
@Injectable()
export class SessionStrategy extends PassportStrategy(CustomStrategy, SESSION_STRATEGY) {
  constructor(@Inject(SESSION_VERIFIER) private readonly verifier: SessionVerifier) {
    super();
  }

  async validate(request: FastifyRequest): Promise<SessionPrincipal> {
    const bearer = bearerToken(request.headers.authorization);
    if (isApiKeyBearer(bearer)) throw sessionRequired();
    return verifiedSession(this.verifier, bearer);
  }
}

/**
 * Requires a session through {@link SessionStrategy} and puts it on `request.session` (read it with
 * `CurrentSession`). The strategy's problems (401 `missing_api_key`, `invalid_api_key`,
 * `session_required`) pass through unchanged.
 */
@Injectable()
export class SessionGuard extends AuthGuard(SESSION_STRATEGY) {
  override getAuthenticateOptions(): { session: false; property: 'session' } {
    return { session: false, property: 'session' };
  }

  override handleRequest<T>(err: unknown, user: T): T {
    if (err) throw err;
    if (!user) throw invalidApiKey('a session is required');
    return user;
  }
}
