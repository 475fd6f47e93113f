import {
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  Injectable,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';

import { scopeHeld } from '@signet/credentials';

import { insufficientScope, invalidApiKey, missingApiKey } from '../errors';
import type { ApiKeyPrincipal } from '../principal';
import { UsageService } from '../usecases/usage/usage.service';
import { ApiKeysService } from '../usecases/verify/api-keys.service';

export const API_KEY_SCOPES = 'signet:api-key-scopes';

/**
 * Scopes a restricted (`rk_`) key needs for a route, e.g. `tokens:write`.
 * Secret (`sk_`) keys have full access to their org. A route without this
 * decorator refuses restricted keys: failing closed.
 */
export const RequireScopes = (...scopes: string[]) => SetMetadata(API_KEY_SCOPES, scopes);

export type ApiKeyRequest = FastifyRequest & { apiKey?: ApiKeyPrincipal };

/** `Authorization: Bearer <key>`; the scheme is case-insensitive (RFC 7235 §2.1, RFC 6750 §2.1). */
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * Requires a valid API key and attaches its principal to the request
 * (read it with {@link CurrentApiKey}).
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly keys: ApiKeysService,
    private readonly reflector: Reflector,
    private readonly usage: UsageService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<ApiKeyRequest>();
    const header = request.headers.authorization;
    if (header === undefined || header === '') {
      throw missingApiKey('send an API key as "Authorization: Bearer sk_…"');
    }
    const match = BEARER.exec(header);
    if (!match) throw invalidApiKey('the Authorization header must be "Bearer <API key>"');
    const principal = await this.keys.verify(match[1], { ip: request.ip });
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
    request.apiKey = principal;
    this.usage.record(principal.keyId, 'apiCalls');
    return true;
  }
}

/** The verified API key of the request; use on routes behind {@link ApiKeyGuard}. */
export const CurrentApiKey = createParamDecorator((_data: unknown, context: ExecutionContext): ApiKeyPrincipal => {
  const principal = context.switchToHttp().getRequest<ApiKeyRequest>().apiKey;
  // Only reachable when a route forgot the guard: refuse rather than run unauthenticated.
  if (!principal) throw missingApiKey('an API key is required');
  return principal;
});
