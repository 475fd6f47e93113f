import { Inject, Injectable } from '@nestjs/common';

import { DIRECTORY_REPOSITORY, DirectoryRepository, DirectorySettings } from '../../directory.repository';
import type { UpdateDirectorySettingsCommand } from './update-settings.command';

/** Sets what POST /v1/tokens does for users the directory does not know (creating the org's directory if needed). */
@Injectable()
export class UpdateDirectorySettingsUseCase {
  constructor(@Inject(DIRECTORY_REPOSITORY) private readonly directory: DirectoryRepository) {}

  execute(command: UpdateDirectorySettingsCommand): Promise<DirectorySettings> {
    return this.directory.setUnknownUsers(command.orgId, command.unknownUsers);
  }
}
