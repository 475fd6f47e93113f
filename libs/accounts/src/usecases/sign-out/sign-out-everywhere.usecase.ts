import { Inject, Injectable } from '@nestjs/common';

import { OIDC_PAYLOAD_REPOSITORY, OidcPayloadRepository } from '../../sign-in/oidc-payload.repository';

/**
 * `signet logout --all`: ends every sign-in of the account (each CLI and dashboard grant with its access
 * and refresh tokens, and its browser sessions at /oidc). The caller's own session ends with them.
 */
@Injectable()
export class SignOutEverywhereUseCase {
  constructor(@Inject(OIDC_PAYLOAD_REPOSITORY) private readonly payloads: OidcPayloadRepository) {}

  async execute(command: { accountId: string }): Promise<{ revokedGrants: number }> {
    return { revokedGrants: await this.payloads.revokeByAccountId(command.accountId) };
  }
}
