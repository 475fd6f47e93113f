import { Inject, Injectable } from '@nestjs/common';

import type { SessionPrincipal, SessionVerifier } from '@signet/api-keys';

import { ACCOUNTS_REPOSITORY, AccountsRepository } from '../accounts.repository';
import { OIDC_PAYLOAD_REPOSITORY, OidcPayloadRepository } from './oidc-payload.repository';

/**
 * A bearer that is no API key: an access token of the authorization server, read from its store as
 * oidc-provider's AccessToken.find would (an opaque token is its own id; revoking a grant deletes its
 * rows), without loading the provider.
 */
@Injectable()
export class AccessTokenSessionVerifier implements SessionVerifier {
  constructor(
    @Inject(OIDC_PAYLOAD_REPOSITORY) private readonly payloads: OidcPayloadRepository,
    @Inject(ACCOUNTS_REPOSITORY) private readonly accounts: AccountsRepository,
  ) {}

  async verify(token: string): Promise<SessionPrincipal | null> {
    // oidc-provider's opaque tokens are 43 base64url characters; anything else is not worth a query.
    if (!/^[A-Za-z0-9_-]{20,128}$/.test(token)) return null;
    const payload = await this.payloads.find('AccessToken', token);
    const exp = typeof payload?.exp === 'number' ? payload.exp : 0;
    if (!payload || payload.jti !== token || exp * 1000 <= Date.now() || typeof payload.accountId !== 'string') return null;
    const account = await this.accounts.findById(payload.accountId);
    if (!account) return null;
    return {
      accountId: account.id,
      orgId: account.orgId,
      username: account.username,
      role: account.role,
      clientId: typeof payload.clientId === 'string' ? payload.clientId : '',
      expiresAt: exp * 1000,
    };
  }
}
