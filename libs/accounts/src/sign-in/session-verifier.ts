import { Inject, Injectable } from '@nestjs/common';

import type { SessionPrincipal, SessionVerifier } from '@signet/api-keys';

import { ACCOUNTS_REPOSITORY, AccountsRepository } from '../accounts.repository';
import { AuthorizationServer } from './authorization-server';

/** A bearer that is no API key: an access token of the authorization server, checked against its store. */
@Injectable()
export class AccessTokenSessionVerifier implements SessionVerifier {
  constructor(
    private readonly server: AuthorizationServer,
    @Inject(ACCOUNTS_REPOSITORY) private readonly accounts: AccountsRepository,
  ) {}

  async verify(token: string): Promise<SessionPrincipal | null> {
    // oidc-provider's opaque tokens are 43 base64url characters; anything else is not worth a query.
    if (!/^[A-Za-z0-9_-]{20,128}$/.test(token)) return null;
    const accessToken = await this.server.oidc.AccessToken.find(token);
    if (!accessToken || accessToken.isExpired || !accessToken.accountId) return null;
    const account = await this.accounts.findById(accessToken.accountId);
    if (!account) return null;
    return {
      accountId: account.id,
      orgId: account.orgId,
      username: account.username,
      role: account.role,
      clientId: accessToken.clientId ?? '',
      expiresAt: (accessToken.exp ?? 0) * 1000,
    };
  }
}
