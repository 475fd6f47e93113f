import { Inject, Injectable } from '@nestjs/common';

import { API_KEYS_REPOSITORY, ApiKeysRepository } from '../../api-keys.repository';
import { keyNotFound } from '../../errors';
import { KEY_REVOCATION_RECORDER, KeyRevocationRecorder } from '../../key-revocation-recorder';
import { KEY_REVOCATION_REASONS } from '../../key-revocations';
import { checkManageable } from '../key-policy';
import type { RevokeKeyCommand } from './revoke-key.command';

/** Revokes at once (idempotent). A predecessor still in its rotation grace goes with it. */
@Injectable()
export class RevokeKeyUseCase {
  constructor(
    @Inject(API_KEYS_REPOSITORY) private readonly repository: ApiKeysRepository,
    @Inject(KEY_REVOCATION_RECORDER) private readonly revocations: KeyRevocationRecorder,
  ) {}

  async execute(command: RevokeKeyCommand): Promise<void> {
    const { caller, keyId } = command;
    await this.repository.transaction(async (tx) => {
      const key = await tx.findInOrgForUpdate(caller.orgId, keyId);
      if (!key) throw keyNotFound(keyId);
      checkManageable(caller, key);
      const now = new Date();
      const ids = await tx.revokeGracePredecessors(key.id, now);
      if (key.revokedAt === null) {
        await tx.update(key.id, { revokedAt: now });
        ids.push(key.id);
      }
      await this.revocations.record(tx, ids, KEY_REVOCATION_REASONS.revoked);
    });
  }
}
