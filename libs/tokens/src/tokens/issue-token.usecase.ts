import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import type { ApiKeyPrincipal } from '@signet/api-keys';
import type { SignetConfig } from '@signet/config';
import { SIGNET_CONFIG } from '@signet/config';
import { mqttGrants } from '@signet/credentials';
import { forbidden, unauthorized } from '@signet/http';
import { Permissions, templateCovered } from '@signet/permissions';
import { DATA_SOURCE, inTransaction, OrgEntity } from '@signet/persistence';

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
    checkNoEscalation(caller, permissions);
    return inTransaction(this.dataSource, async (manager) => {
      const org = await manager.findOneBy(OrgEntity, { id: caller.orgId });
      // The key's org was deleted after its verdict was cached.
      if (!org) throw unauthorized('invalid_api_key', 'the API key is invalid, expired or revoked');
      const ttlSeconds = resolveTtl(request.ttl_seconds, this.config, org.maxTokenTtlSeconds);
      return this.issuer.issue(manager, { orgId: org.id, userId, clientId, permissions, ttlSeconds });
    });
  }
}

/**
 * A restricted key cannot hand out MQTT rights it does not hold: every filter
 * of the token (the default `users/{user_id}/#` included) must be covered by
 * the key's own `mqtt:publish:` / `mqtt:subscribe:` scopes. Secret keys hold
 * every right in their org.
 */
export function checkNoEscalation(caller: ApiKeyPrincipal, permissions: Permissions): void {
  if (caller.type === 'secret') return;
  const held = mqttGrants(caller.scopes);
  const missing = [
    ...permissions.publish.filter((f) => !templateCovered(held.publish, f, caller.orgId)).map((f) => `publish ${f}`),
    ...permissions.subscribe.filter((f) => !templateCovered(held.subscribe, f, caller.orgId)).map((f) => `subscribe ${f}`),
  ];
  if (missing.length > 0) {
    throw forbidden('privilege_escalation', `this API key cannot grant what it does not hold: ${missing.join(', ')}`);
  }
}
