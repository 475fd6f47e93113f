import { Inject, Injectable } from '@nestjs/common';

import { ssoNotConfigured } from '../../errors';
import { SSO_REPOSITORY, SsoConnection, SsoRepository } from '../../sso/sso.repository';

/** The org's SSO provider, or 404 `sso_not_configured`. */
@Injectable()
export class GetSsoUseCase {
  constructor(@Inject(SSO_REPOSITORY) private readonly sso: SsoRepository) {}

  async execute(command: { orgId: string }): Promise<SsoConnection> {
    const connection = await this.sso.findByOrg(command.orgId);
    if (!connection) throw ssoNotConfigured();
    return connection;
  }
}
