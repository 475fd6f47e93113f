import { Inject, Injectable } from '@nestjs/common';

import { ProblemError } from '@signet/http';
import { resolvePermissions, TOKEN_ERRORS } from '@signet/tokens';

import { Deprovisioner } from '../../deprovisioner';
import { DIRECTORY_REPOSITORY, DirectoryGroup, DirectoryRepository } from '../../directory.repository';
import { groupNotFound, invalidGroupPermission } from '../../errors';
import { isUuid } from '../../scim/scim-resources';
import type { SetGroupPermissionsCommand } from './set-group-permissions.command';

/**
 * Maps a directory group to topic permissions, checked like a token's
 * (placeholders, limits). Every member's tokens are revoked: they carry the
 * former permissions; new ones get the new.
 */
@Injectable()
export class SetGroupPermissionsUseCase {
  constructor(
    @Inject(DIRECTORY_REPOSITORY) private readonly directory: DirectoryRepository,
    private readonly deprovisioner: Deprovisioner,
  ) {}

  async execute(command: SetGroupPermissionsCommand): Promise<DirectoryGroup> {
    if (!isUuid(command.groupId)) throw groupNotFound();
    let permissions;
    try {
      permissions = resolvePermissions({ publish: command.publish, subscribe: command.subscribe });
    } catch (err) {
      // The token feature's check, under this feature's code.
      if (err instanceof ProblemError && err.code === TOKEN_ERRORS.invalidPermission) throw invalidGroupPermission(err.detail);
      throw err;
    }
    const change = await this.directory.setGroupPermissions(command.orgId, command.groupId, permissions);
    if (!change) throw groupNotFound();
    await this.deprovisioner.revoke(command.orgId, change.revokeUserNames);
    return change.result;
  }
}
