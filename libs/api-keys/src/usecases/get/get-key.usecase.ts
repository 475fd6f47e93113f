import { Inject, Injectable } from '@nestjs/common';

import { API_KEYS_REPOSITORY, ApiKeysRepository, StoredApiKey } from '../../api-keys.repository';
import { keyNotFound } from '../../errors';
import type { GetKeyCommand } from './get-key.command';

/** One key of the caller's org; another org's key is as unknown as a missing one. */
@Injectable()
export class GetKeyUseCase {
  constructor(@Inject(API_KEYS_REPOSITORY) private readonly repository: ApiKeysRepository) {}

  async execute(command: GetKeyCommand): Promise<StoredApiKey> {
    const key = await this.repository.findInOrg(command.caller.orgId, command.keyId);
    if (!key) throw keyNotFound(command.keyId);
    return key;
  }
}
