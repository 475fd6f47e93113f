import { Inject, Injectable } from '@nestjs/common';

import { invalidCursor } from '@signet/http';
import { decodeKeysetCursor, KeysetPosition, keysetPage } from '@signet/persistence';

import { DIRECTORY_REPOSITORY, DirectoryGroup, DirectoryRepository } from '../../directory.repository';
import type { ListGroupsCommand } from './list-groups.command';

const DEFAULT_PAGE = 50;
const MAX_PAGE = 100;

/** Lists groups with their permissions, so an admin finds the id to map without a SCIM token. */
@Injectable()
export class ListGroupsUseCase {
  constructor(@Inject(DIRECTORY_REPOSITORY) private readonly directory: DirectoryRepository) {}

  async execute(command: ListGroupsCommand): Promise<{ groups: DirectoryGroup[]; nextCursor: string | null }> {
    const limit = Math.min(Math.max(Math.trunc(Number(command.limit ?? DEFAULT_PAGE)) || DEFAULT_PAGE, 1), MAX_PAGE);
    let after: KeysetPosition | undefined;
    if (command.cursor !== undefined) {
      after = decodeKeysetCursor(command.cursor) ?? undefined;
      if (after === undefined) throw invalidCursor();
    }
    const rows = await this.directory.groupsAfter(command.orgId, after, limit + 1);
    const page = keysetPage(rows, limit, (g) => ({ at: g.createdAt, id: g.id }));
    return { groups: page.items, nextCursor: page.nextCursor };
  }
}
