import { Inject, Injectable } from '@nestjs/common';

import { API_KEYS_REPOSITORY, ApiKeysRepository, StoredApiKey } from '../../api-keys.repository';
import { checkAllowlist, checkName, checkScopes, limitsForNewKey, parseExpiresAt } from '../key-policy';
import type { CreateKeyCommand } from './create-key.command';
import { issueApiKey } from './issue-key';

/** POST /v1/keys: a new key within the caller's own rights; its string is in the answer this once. */
@Injectable()
export class CreateKeyUseCase {
  constructor(@Inject(API_KEYS_REPOSITORY) private readonly repository: ApiKeysRepository) {}

  async execute(command: CreateKeyCommand): Promise<{ key: StoredApiKey; apiKey: string }> {
    const { caller } = command;
    checkName(command.name);
    const scopes = checkScopes(command.type, command.scopes);
    checkAllowlist(command.ipAllowlist);
    const expiresAt = parseExpiresAt(command.expiresAt, Date.now());
    const limits = limitsForNewKey(caller, command.type, scopes, { ipAllowlist: command.ipAllowlist, expiresAt });
    const created = await issueApiKey(this.repository, {
      orgId: caller.orgId,
      name: command.name,
      type: command.type,
      scopes,
      ipAllowlist: limits.ipAllowlist,
      expiresAt: limits.expiresAt,
    });
    const key = await this.repository.findById(created.keyId);
    if (!key) throw new Error(`key ${created.keyId} vanished after its insert`);
    return { key, apiKey: created.apiKey };
  }
}
