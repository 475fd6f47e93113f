import { Inject, Injectable } from '@nestjs/common';

import { DirectoryIssuanceGate } from '../../directory-issuance-gate';
import { DIRECTORY_REPOSITORY, DirectoryRepository, DirectorySettings } from '../../directory.repository';
import type { UpdateDirectorySettingsCommand } from './update-settings.command';

/** Sets what POST /v1/tokens does for users the directory does not know (creating the org's directory if needed). */
@Injectable()
export class UpdateDirectorySettingsUseCase {
  constructor(
    @Inject(DIRECTORY_REPOSITORY) private readonly directory: DirectoryRepository,
    private readonly gate: DirectoryIssuanceGate,
  ) {}

  async execute(command: UpdateDirectorySettingsCommand): Promise<DirectorySettings> {
    const settings = await this.directory.setUnknownUsers(command.orgId, command.unknownUsers);
    this.gate.forget(command.orgId);
    return settings;
  }
}
