import { Inject, Injectable } from '@nestjs/common';

import { DirectoryIssuanceGate } from '../../directory-issuance-gate';
import { DIRECTORY_REPOSITORY, DirectoryRepository } from '../../directory.repository';
import { newScimToken, scimTokenHash } from '../../scim-token';
import type { RotateScimTokenCommand } from './rotate-scim-token.command';

/** Creates the org's directory if needed; the token is returned once, and the former one stops working at once. */
@Injectable()
export class RotateScimTokenUseCase {
  constructor(
    @Inject(DIRECTORY_REPOSITORY) private readonly directory: DirectoryRepository,
    private readonly gate: DirectoryIssuanceGate,
  ) {}

  async execute(command: RotateScimTokenCommand): Promise<{ token: string }> {
    const token = newScimToken();
    await this.directory.setScimToken(command.orgId, scimTokenHash(token));
    this.gate.forget(command.orgId);
    return { token };
  }
}
