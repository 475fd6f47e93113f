import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import type { ApiKeyPrincipal } from '@signet/api-keys';
import type { SignetConfig } from '@signet/config';
import { DATA_SOURCE, SIGNET_CONFIG, unauthorized } from '@signet/http';
import { inTransaction, OrgEntity } from '@signet/persistence';

import type { IssueTokenDto } from './dto';
import { IssuedCredentials, TokenIssuer } from './token-issuer';
import { checkClientId, checkUserId, resolvePermissions, resolveTtl } from './token-policy';

/** POST /v1/tokens: validates the request against the org's limits, then issues. */
@Injectable()
export class IssueTokenUseCase {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(SIGNET_CONFIG) private readonly config: SignetConfig,
    private readonly issuer: TokenIssuer,
  ) {}

  async execute(caller: ApiKeyPrincipal, request: IssueTokenDto): Promise<IssuedCredentials> {
    const userId = checkUserId(request.user_id);
    const clientId = checkClientId(request.client_id);
    const permissions = resolvePermissions(request.permissions);
    return inTransaction(this.dataSource, async (manager) => {
      const org = await manager.findOneBy(OrgEntity, { id: caller.orgId });
      // The key's org was deleted after its verdict was cached.
      if (!org) throw unauthorized('invalid_api_key', 'the API key is invalid, expired or revoked');
      const ttlSeconds = resolveTtl(request.ttl_seconds, this.config, org.maxTokenTtlSeconds);
      return this.issuer.issue(manager, { orgId: org.id, userId, clientId, permissions, ttlSeconds });
    });
  }
}
