import { Inject, Injectable } from '@nestjs/common';
import type { JWTPayload } from 'jose';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';

import { ApiKeyPrincipal } from '@signet/api-keys';
import type { SignetConfig } from '@signet/config';
import { userIdProblem } from '@signet/credentials';
import { DATA_SOURCE, LOGGER, SIGNET_CONFIG } from '@signet/http';
import { inTransaction, OrgEntity } from '@signet/persistence';
import { checkClientId, checkNoEscalation, IssuedCredentials, resolveTtl, TokenIssuer } from '@signet/tokens';

import { refuse } from '../errors';
import { IdpProvidersService, LoadedProvider } from '../providers/idp-providers.service';
import { claimAt, mapPermissions } from '../roles';
import { VerifierCache } from './verifier-cache';

export interface ExchangeRequest {
  providerId: string;
  idToken: string;
  ttlSeconds?: number;
  clientId?: string;
  /** Set when a backend exchanged with its own API key: the provider must be in the key's org. */
  caller?: ApiKeyPrincipal;
}

/**
 * IdP token → `tkn_` credentials: verify the token with the provider's pinned
 * keys and algorithms, read the user id and roles from its claims, map the
 * roles to topic permissions, and issue through the token service's
 * TokenIssuer, exactly as POST /v1/tokens would.
 */
@Injectable()
export class ExchangeService {
  private readonly log: Logger;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(SIGNET_CONFIG) private readonly config: SignetConfig,
    @Inject(LOGGER) logger: Logger,
    private readonly providers: IdpProvidersService,
    private readonly verifiers: VerifierCache,
    private readonly issuer: TokenIssuer,
  ) {
    this.log = logger.child({ component: 'federation' });
  }

  async exchange(request: ExchangeRequest): Promise<IssuedCredentials> {
    const provider = await this.providers.load(request.providerId);
    // Missing, disabled and foreign providers answer alike: provider ids are not secret, but their state is nobody else's business.
    if (!provider || !provider.enabled || (request.caller && request.caller.orgId !== provider.orgId)) {
      throw refuse('unknown_provider', 'no enabled identity provider with this id');
    }
    let claims: JWTPayload;
    try {
      claims = await this.verifiers.get(provider).verify(request.idToken);
    } catch (err) {
      // The code and provider only: never the token.
      const code = (err as { code?: unknown }).code;
      this.log.info({ providerId: provider.id, kind: provider.kind, code: typeof code === 'string' ? code : 'error' }, 'IdP token refused');
      throw err;
    }
    const userId = this.userIdOf(provider, claims);
    const { permissions, roles } = mapPermissions(provider.settings, claims);
    const clientId = checkClientId(request.clientId);
    if (request.caller) checkNoEscalation(request.caller, permissions);
    const credentials = await inTransaction(this.dataSource, async (manager) => {
      const org = await manager.findOneBy(OrgEntity, { id: provider.orgId });
      if (!org) throw refuse('unknown_provider', 'no enabled identity provider with this id');
      const ttlSeconds = resolveTtl(request.ttlSeconds, this.config, org.maxTokenTtlSeconds);
      return this.issuer.issue(manager, { orgId: org.id, userId, clientId, permissions, ttlSeconds });
    });
    this.log.info({ providerId: provider.id, kind: provider.kind, userId, roles, tokenId: credentials.tokenId }, 'IdP token exchanged');
    return credentials;
  }

  private userIdOf(provider: LoadedProvider, claims: JWTPayload): string {
    const value = claimAt(claims, provider.settings.user_id_claim);
    if (typeof value !== 'string') throw refuse('invalid_user_claim', `the token has no string claim ${provider.settings.user_id_claim}`);
    const problem = userIdProblem(value);
    if (problem) throw refuse('invalid_user_claim', `the user id claim ${provider.settings.user_id_claim} ${problem}`);
    return value;
  }
}
