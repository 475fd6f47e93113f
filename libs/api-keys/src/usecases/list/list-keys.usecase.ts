import { Inject, Injectable } from '@nestjs/common';

import { invalidCursor } from '@signet/http';
import { decodeKeysetCursor, keysetPage } from '@signet/persistence';

import { API_KEYS_REPOSITORY, ApiKeysRepository, StoredApiKey } from '../../api-keys.repository';
import type { ListKeysCommand } from './list-keys.command';

export const MAX_KEYS_PAGE = 100;

/** The caller's org's keys, newest first, a keyset page at a time. */
@Injectable()
export class ListKeysUseCase {
  constructor(@Inject(API_KEYS_REPOSITORY) private readonly repository: ApiKeysRepository) {}

  async execute(command: ListKeysCommand): Promise<{ keys: StoredApiKey[]; nextCursor: string | null }> {
    const after = command.cursor === undefined ? null : decodeKeysetCursor(command.cursor);
    if (after === null && command.cursor !== undefined) throw invalidCursor();
    const rows = await this.repository.listInOrg(command.caller.orgId, command.limit + 1, after);
    const page = keysetPage(rows, command.limit, (k) => ({ at: k.createdAt, id: k.id }));
    return { keys: page.items, nextCursor: page.nextCursor };
  }
}
