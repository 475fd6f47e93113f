import { CanActivate, createParamDecorator, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import { DIRECTORY_REPOSITORY, DirectoryRepository } from '../directory.repository';
import { ScimError } from '../errors';
import { looksLikeScimToken, scimTokenHash } from '../scim-token';

export type ScimRequest = FastifyRequest & { scimOrgId?: string };

/** `Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 6750 §2.1). */
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

const unauthorized = () => new ScimError(401, 'send the SCIM token of your org as "Authorization: Bearer scim_…"');

/** Requires the org's SCIM bearer token (POST /v1/directory/scim-token) and attaches its org to the request. */
@Injectable()
export class ScimTokenGuard implements CanActivate {
  constructor(@Inject(DIRECTORY_REPOSITORY) private readonly directory: DirectoryRepository) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<ScimRequest>();
    const match = BEARER.exec(request.headers.authorization ?? '');
    if (!match || !looksLikeScimToken(match[1])) throw unauthorized();
    const orgId = await this.directory.orgOfScimToken(scimTokenHash(match[1]));
    if (orgId === null) throw unauthorized();
    request.scimOrgId = orgId;
    return true;
  }
}

/** The org of the SCIM token; use on routes behind {@link ScimTokenGuard}. */
export const ScimOrg = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const orgId = context.switchToHttp().getRequest<ScimRequest>().scimOrgId;
  if (!orgId) throw unauthorized();
  return orgId;
});
