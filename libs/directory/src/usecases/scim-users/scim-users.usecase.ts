import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';

import { Deprovisioner } from '../../deprovisioner';
import {
  DIRECTORY_REPOSITORY,
  DirectoryRepository,
  DirectoryUser,
  DirectoryUserFields,
  DuplicateUserNameError,
  VersionMismatchError,
} from '../../directory.repository';
import { scimDuplicateUserName, scimNotFound, scimPreconditionFailed } from '../../errors';
import { DIRECTORY_OPTIONS, DirectoryOptions } from '../../options';
import { userConditions } from '../../scim/scim-filter';
import { listResponse, pageOf } from '../../scim/scim-list';
import { applyPatch } from '../../scim/scim-patch-normalise';
import { isUuid, ScimResource, toScimUser, userFieldsOf, versionOfEtag } from '../../scim/scim-resources';
import type { ScimListCommand, ScimUsersCommand, ScimWriteCommand } from './scim-users.command';

/**
 * /scim/v2/Users: create, read, list (filter, startIndex/count), replace,
 * patch and delete directory users. A user who ends up inactive, renamed or
 * deleted has every token revoked (their MQTT sessions close on every edge).
 */
@Injectable()
export class ScimUsersUseCase {
  constructor(
    @Inject(DIRECTORY_REPOSITORY) private readonly directory: DirectoryRepository,
    @Inject(DIRECTORY_OPTIONS) private readonly options: DirectoryOptions,
    private readonly deprovisioner: Deprovisioner,
  ) {}

  async create(command: ScimUsersCommand & { body: unknown }): Promise<ScimResource> {
    const fields = userFieldsOf(command.body);
    const user = await duplicateAware(() => this.directory.createUser(command.orgId, randomUUID(), fields));
    return toScimUser(user, command.baseUrl);
  }

  async get(command: ScimUsersCommand & { id: string }): Promise<ScimResource> {
    return toScimUser(await this.find(command.orgId, command.id), command.baseUrl);
  }

  async list(command: ScimListCommand): Promise<ScimResource> {
    const conditions = userConditions(command.filter);
    const page = pageOf(command.startIndex, command.count, this.options.scimMaxResults);
    const result = await this.directory.listUsers(command.orgId, conditions, page.offset, page.limit);
    return listResponse(result.total, page.startIndex, result.items.map((u) => toScimUser(u, command.baseUrl)));
  }

  async replace(command: ScimWriteCommand): Promise<ScimResource> {
    return this.write(command, userFieldsOf(command.body));
  }

  async patch(command: ScimWriteCommand): Promise<ScimResource> {
    const current = toScimUser(await this.find(command.orgId, command.id), command.baseUrl);
    return this.write(command, userFieldsOf(applyPatch(command.body, current)));
  }

  async delete(command: ScimUsersCommand & { id: string; ifMatch?: string }): Promise<void> {
    if (!isUuid(command.id)) throw scimNotFound('User');
    const change = await preconditioned(() => this.directory.deleteUser(command.orgId, command.id, versionOfEtag(command.ifMatch)));
    if (!change) throw scimNotFound('User');
    await this.deprovisioner.revoke(command.orgId, change.revokeUserNames);
  }

  private async write(command: ScimWriteCommand, fields: DirectoryUserFields): Promise<ScimResource> {
    if (!isUuid(command.id)) throw scimNotFound('User');
    const change = await duplicateAware(() =>
      preconditioned(() => this.directory.updateUser(command.orgId, command.id, fields, versionOfEtag(command.ifMatch))),
    );
    if (!change) throw scimNotFound('User');
    await this.deprovisioner.revoke(command.orgId, change.revokeUserNames);
    return toScimUser(change.result, command.baseUrl);
  }

  private async find(orgId: string, id: string): Promise<DirectoryUser> {
    const user = isUuid(id) ? await this.directory.findUser(orgId, id) : null;
    if (!user) throw scimNotFound('User');
    return user;
  }
}

async function duplicateAware<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof DuplicateUserNameError) throw scimDuplicateUserName();
    throw err;
  }
}

export async function preconditioned<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof VersionMismatchError) throw scimPreconditionFailed();
    throw err;
  }
}
