import { Inject, Injectable } from '@nestjs/common';

import { ssoNotConfigured } from '../../errors';
import { SSO_REPOSITORY, SsoRepository } from '../../sso/sso.repository';

/**
 * Removes the org's SSO provider and its links. Accounts stay (their sessions too, until they end);
 * one made by SSO has no password, so it cannot sign in again until SSO is set up anew.
 */
@Injectable()
export class DeleteSsoUseCase {
  constructor(@Inject(SSO_REPOSITORY) private readonly sso: SsoRepository) {}

  async execute(command: { orgId: string }): Promise<void> {
    if (!(await this.sso.delete(command.orgId))) throw ssoNotConfigured();
  }
}
