import {
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  Inject,
  Injectable,
  Optional,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';

import { scopeHeld } from '@signet/credentials';

import { insufficientScope, invalidApiKey, missingApiKey } from '../errors';
import type { ApiKeyPrincipal } from '../principal';
import { UsageService } from '../usecases/usage/usage.service';
import { ApiKeysService } from '../usecases/verify/api-keys.service';
import { SESSION_VERIFIER, sessionAsCaller, SessionPrincipal, SessionVerifier, verifiedSession } from './session';

export const API_KEY_SCOPES = 'signet:api-key-scopes';

/**
 * Scopes a restricted (`rk_`) key needs for a route, e.g. `tokens:write`.
 * Secret (`sk_`) keys have full access to their org. A route without this
 * decorator refuses restricted keys: failing closed.
 */
export const RequireScopes = (...scopes: string[]) => SetMetadata(API_KEY_SCOPES, scopes);

const EVERY_ROLE = 'signet:every-role';

/**
 * A write a viewer may make too, because it only concerns the caller's own sign-in (signing out
 * everywhere): the role check lets every role through; API keys are unaffected.
 */
export const ForEveryRole = () => SetMetadata(EVERY_ROLE, true);

export type ApiKeyRequest = FastifyRequest & { apiKey?: ApiKeyPrincipal; session?: SessionPrincipal };

/** `Authorization: Bearer <key>`; the scheme is case-insensitive (RFC 7235 §2.1, RFC 6750 §2.1). */
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
/** API keys carry their type in the prefix; any other bearer may be a sign-in session. */
const API_KEY_PREFIX = /^(?:sk|rk)_/;

/** The bearer of an Authorization header, or 401 `missing_api_key` / `invalid_api_key`. */
export function bearerToken(header: string | undefined): string {
  if (header === undefined || header === '') {
    throw missingApiKey('send an API key as "Authorization: Bearer sk_…"');
  }
  const match = BEARER.exec(header);
  if (!match) throw invalidApiKey('the Authorization header must be "Bearer <API key>"');
  return match[1];
}

export const isApiKeyBearer = (bearer: string): boolean => API_KEY_PREFIX.test(bearer);

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * Requires a valid API key, or a sign-in session when the accounts feature is
 * composed in (role-checked: a viewer reads only), and attaches its principal
 * to the request (read it with {@link CurrentApiKey}).
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly keys: ApiKeysService,
    private readonly reflector: Reflector,
    private readonly usage: UsageService,
    @Optional() @Inject(SESSION_VERIFIER) private readonly sessions?: SessionVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<ApiKeyRequest>();
    const bearer = bearerToken(request.headers.authorization);
    if (this.sessions && !isApiKeyBearer(bearer)) return this.acceptSession(context, request, bearer);
    const principal = await this.keys.verify(bearer, { ip: request.ip });
    // Known before the scope check: the audit log names who was refused.
    request.apiKey = principal;
    if (principal.type === 'restricted') {
      const required = this.reflector.getAllAndOverride<string[] | undefined>(API_KEY_SCOPES, [
        context.getHandler(),
        context.getClass(),
      ]);
      if (!required || required.length === 0 || !required.every((s) => scopeHeld(principal.scopes, s, principal.orgId))) {
        this.usage.record(principal.keyId, 'denials');
        throw insufficientScope(`this API key lacks the scope(s) ${required?.join(', ') || 'for this route'}`);
      }
    }
    this.usage.record(principal.keyId, 'apiCalls');
    return true;
  }

  private async acceptSession(context: ExecutionContext, request: ApiKeyRequest, token: string): Promise<boolean> {
    const session = await verifiedSession(this.sessions!, token);
    // Known before the role check: the audit log names who was refused.
    request.session = session;
    request.apiKey = sessionAsCaller(session);
    if (session.role === 'viewer' && !READ_METHODS.has(request.method) && !this.forEveryRole(context)) {
      throw insufficientScope('a viewer account can only read');
    }
    return true;
  }

  private forEveryRole(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()].filter((t) => t !== undefined);
    return this.reflector.getAllAndOverride<boolean | undefined>(EVERY_ROLE, targets) === true;
  }
}

/** The verified API key of the request; use on routes behind {@link ApiKeyGuard}. */
export const CurrentApiKey = createParamDecorator((_data: unknown, context: ExecutionContext): ApiKeyPrincipal => {
  const principal = context.switchToHttp().getRequest<ApiKeyRequest>().apiKey;
  // Only reachable when a route forgot the guard: refuse rather than run unauthenticated.
  if (!principal) throw missingApiKey('an API key is required');
  return principal;
});
