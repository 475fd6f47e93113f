import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';

import { Deprovisioner } from '../../deprovisioner';
import { DIRECTORY_REPOSITORY, DirectoryGroup, DirectoryGroupFields, DirectoryRepository } from '../../directory.repository';
import { scimNotFound } from '../../errors';
import { DIRECTORY_OPTIONS, DirectoryOptions } from '../../options';
import { groupConditions } from '../../scim/scim-filter';
import { listResponse, pageOf } from '../../scim/scim-list';
import { applyPatch } from '../../scim/scim-patch-normalise';
import { groupFieldsOf, isUuid, ScimResource, toScimGroup, versionOfEtag } from '../../scim/scim-resources';
import type { ScimGroupsCommand, ScimListCommand, ScimWriteCommand } from './scim-groups.command';
import { preconditioned } from '../scim-users/scim-users.usecase';

/**
 * /scim/v2/Groups. Members who leave a group (PATCH remove, PUT without them,
 * DELETE of the group) lose the tokens they hold: those carried the group's permissions.
 */
@Injectable()
export class ScimGroupsUseCase {
  constructor(
    @Inject(DIRECTORY_REPOSITORY) private readonly directory: DirectoryRepository,
    @Inject(DIRECTORY_OPTIONS) private readonly options: DirectoryOptions,
    private readonly deprovisioner: Deprovisioner,
  ) {}

  async create(command: ScimGroupsCommand & { body: unknown }): Promise<ScimResource> {
    const group = await this.directory.createGroup(command.orgId, randomUUID(), groupFieldsOf(command.body));
    return toScimGroup(group, command.baseUrl);
  }

  async get(command: ScimGroupsCommand & { id: string }): Promise<ScimResource> {
    return toScimGroup(await this.find(command.orgId, command.id), command.baseUrl);
  }

  async list(command: ScimListCommand): Promise<ScimResource> {
    const conditions = groupConditions(command.filter);
    const page = pageOf(command.startIndex, command.count, this.options.scimMaxResults);
    const result = await this.directory.listGroups(command.orgId, conditions, page.offset, page.limit);
    return listResponse(result.total, page.startIndex, result.items.map((g) => toScimGroup(g, command.baseUrl)));
  }

  async replace(command: ScimWriteCommand): Promise<ScimResource> {
    return this.write(command, groupFieldsOf(command.body));
  }

  async patch(command: ScimWriteCommand): Promise<ScimResource> {
    const current = toScimGroup(await this.find(command.orgId, command.id), command.baseUrl);
    return this.write(command, groupFieldsOf(applyPatch(command.body, current)));
  }

  async delete(command: ScimGroupsCommand & { id: string; ifMatch?: string }): Promise<void> {
    if (!isUuid(command.id)) throw scimNotFound('Group');
    const change = await preconditioned(() => this.directory.deleteGroup(command.orgId, command.id, versionOfEtag(command.ifMatch)));
    if (!change) throw scimNotFound('Group');
    await this.deprovisioner.revoke(command.orgId, change.revokeUserNames);
  }

  private async write(command: ScimWriteCommand, fields: DirectoryGroupFields): Promise<ScimResource> {
    if (!isUuid(command.id)) throw scimNotFound('Group');
    const change = await preconditioned(() => this.directory.updateGroup(command.orgId, command.id, fields, versionOfEtag(command.ifMatch)));
    if (!change) throw scimNotFound('Group');
    await this.deprovisioner.revoke(command.orgId, change.revokeUserNames);
    return toScimGroup(change.result, command.baseUrl);
  }

  private async find(orgId: string, id: string): Promise<DirectoryGroup> {
    const group = isUuid(id) ? await this.directory.findGroup(orgId, id) : null;
    if (!group) throw scimNotFound('Group');
    return group;
  }
}
