import { Inject, Injectable } from '@nestjs/common';

import { keysetRequest } from '@signet/http';
import { keysetPage } from '@signet/persistence';

import { DIRECTORY_REPOSITORY, DirectoryGroup, DirectoryRepository } from '../../directory.repository';
import type { ListGroupsCommand } from './list-groups.command';

const DEFAULT_PAGE = 50;
const MAX_PAGE = 100;

/** Lists groups with their permissions, so an admin finds the id to map without a SCIM token. */
@Injectable()
export class ListGroupsUseCase {
  constructor(@Inject(DIRECTORY_REPOSITORY) private readonly directory: DirectoryRepository) {}

  async execute(command: ListGroupsCommand): Promise<{ groups: DirectoryGroup[]; nextCursor: string | null }> {
    const { limit, after } = keysetRequest(command.limit, command.cursor, { fallback: DEFAULT_PAGE, max: MAX_PAGE });
    const rows = await this.directory.groupsAfter(command.orgId, after, limit + 1);
    const page = keysetPage(rows, limit, (g) => ({ at: g.createdAt, id: g.id }));
    return { groups: page.items, nextCursor: page.nextCursor };
  }
}
