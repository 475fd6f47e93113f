import { Inject, Injectable, Optional } from '@nestjs/common';

import { orgOfKeyGone } from '../../errors';
import { ISSUANCE_GATE, IssuanceGate } from '../../issuance-gate';
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
    @Optional() @Inject(ISSUANCE_GATE) private readonly gate?: IssuanceGate,
  ) {}

  async execute(command: IssueTokenCommand): Promise<IssuedCredentials> {
    const userId = checkUserId(command.userId);
    const clientId = checkClientId(command.clientId);
    const requested = resolvePermissions(command.permissions);
    const permissions = this.gate ? await this.gate.permissionsFor(command.caller.orgId, userId, requested, command.permissions !== undefined) : requested;
    checkNoEscalation(command.caller, permissions);
    return this.issuer.issueInOrg(command.caller.orgId, orgOfKeyGone, (org) => ({
      userId,
      clientId,
      permissions,
      ttlSeconds: resolveTtl(command.ttlSeconds, this.options, org.maxTokenTtlSeconds),
    }));
  }
}
