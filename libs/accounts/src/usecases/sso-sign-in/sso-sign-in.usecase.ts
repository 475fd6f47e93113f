import { Inject, Injectable } from '@nestjs/common';

import { ACCOUNTS_REPOSITORY, AccountsRepository } from '../../accounts.repository';
import { ssoDomainNotAllowed, ssoEmailNotVerified, ssoNoAccount, ssoUsernameTaken } from '../../errors';
import { SSO_REPOSITORY, SsoConnection, SsoRepository } from '../../sso/sso.repository';
import { newAccountId } from '../sign-up/sign-up.usecase';

export interface SsoSignInCommand {
  connection: SsoConnection;
  /** Claims of the validated ID token. */
  claims: { sub: string; email?: unknown; email_verified?: unknown };
}

/**
 * The account an SSO sign-in is for. The IdP's `sub` is the identity; the e-mail only gates it: it
 * must be verified by the IdP and of an allowed domain at every sign-in. A first sign-in links an
 * existing account by that e-mail (when the org allows), or makes one with the org's default role,
 * or is refused (existing accounts only).
 */
@Injectable()
export class SsoSignInUseCase {
  constructor(
    @Inject(SSO_REPOSITORY) private readonly sso: SsoRepository,
    @Inject(ACCOUNTS_REPOSITORY) private readonly accounts: AccountsRepository,
  ) {}

  async execute({ connection, claims }: SsoSignInCommand): Promise<string> {
    const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : '';
    if (email === '' || claims.email_verified !== true) throw ssoEmailNotVerified();
    const domain = email.slice(email.lastIndexOf('@') + 1);
    if (!email.includes('@') || !connection.allowedDomains.includes(domain)) throw ssoDomainNotAllowed();

    const linked = await this.sso.linkedAccountId(connection.id, claims.sub);
    if (linked) {
      const account = await this.accounts.findById(linked);
      if (account && account.orgId === connection.orgId) return account.id;
    }
    const existing = await this.accounts.findByUsername(email);
    if (existing) {
      if (!connection.linkByEmail || existing.orgId !== connection.orgId) throw ssoUsernameTaken();
      await this.sso.link(connection.id, claims.sub, existing.id);
      return existing.id;
    }
    if (connection.defaultRole === null) throw ssoNoAccount();
    const id = newAccountId();
    const created = await this.sso.createLinked(connection.id, claims.sub, { id, orgId: connection.orgId, username: usernameFor(email), role: connection.defaultRole });
    if (created === 'taken') throw ssoUsernameTaken();
    return id;
  }
}

/** The e-mail as the username, within the username rule (2..64 of letters, digits, . _ @ -). */
const usernameFor = (email: string): string => email.replace(/[^A-Za-z0-9._@-]/g, '_').slice(0, 64);
