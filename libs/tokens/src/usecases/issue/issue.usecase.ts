import { Inject, Injectable } from '@nestjs/common';

import { orgOfKeyGone } from '../../errors';
import { TOKENS_OPTIONS, TokensOptions } from '../../options';
import { IssuedCredentials, TokenIssuer } from '../../token-issuer';
import { checkClientId, checkNoEscalation, checkUserId, resolvePermissions, resolveTtl } from '../../token-policy';
import type { IssueTokenCommand } from './issue.command';

/** POST /v1/tokens: validates the request against the key's rights and the org's limits, then issues (one transaction). */
@Injectable()
export class IssueTokenUseCase {
  constructor(
    @Inject(TOKENS_OPTIONS) private readonly options: TokensOptions,
    private readonly issuer: TokenIssuer,
  ) {}

  async execute(command: IssueTokenCommand): Promise<IssuedCredentials> {
    const userId = checkUserId(command.userId);
    const clientId = checkClientId(command.clientId);
    const permissions = resolvePermissions(command.permissions);
    checkNoEscalation(command.caller, permissions);
    return this.issuer.issueInOrg(command.caller.orgId, orgOfKeyGone, (org) => ({
      userId,
      clientId,
      permissions,
      ttlSeconds: resolveTtl(command.ttlSeconds, this.options, org.maxTokenTtlSeconds),
    }));
  }
}
