import { Inject, Injectable } from '@nestjs/common';

import { API_KEYS_REPOSITORY, ApiKeysRepository, StoredApiKey } from '../../api-keys.repository';
import { keyAlreadyRotated, keyNotActive, keyNotFound } from '../../errors';
import { KEY_REVOCATION_RECORDER, KeyRevocationRecorder } from '../../key-revocation-recorder';
import { KEY_REVOCATION_REASONS } from '../../key-revocations';
import { issueApiKey } from '../create/issue-key';
import { checkGrace, checkManageable, DEFAULT_GRACE_SECONDS } from '../key-policy';
import { ApiKeysService } from '../verify/api-keys.service';
import type { RotateKeyCommand } from './rotate-key.command';

export interface RotatedKey {
  key: StoredApiKey;
  apiKey: string;
  previous: StoredApiKey;
}

/**
 * A new key (new id: the id is the revocation unit) with the old one's name,
 * type, scopes, allowlist and expiry. The old key works until the grace
 * period ends (the expiry sweeper then revokes it everywhere); grace 0
 * revokes it in the rotation's transaction.
 */
@Injectable()
export class RotateKeyUseCase {
  constructor(
    @Inject(API_KEYS_REPOSITORY) private readonly repository: ApiKeysRepository,
    @Inject(KEY_REVOCATION_RECORDER) private readonly revocations: KeyRevocationRecorder,
    private readonly verifier: ApiKeysService,
  ) {}

  async execute(command: RotateKeyCommand): Promise<RotatedKey> {
    const { caller, keyId } = command;
    const graceSeconds = command.graceSeconds ?? DEFAULT_GRACE_SECONDS;
    checkGrace(graceSeconds);
    const created = await this.repository.transaction(async (tx) => {
      const old = await tx.findInOrgForUpdate(caller.orgId, keyId);
      if (!old) throw keyNotFound(keyId);
      checkManageable(caller, old);
      const now = Date.now();
      if (old.revokedAt !== null || (old.expiresAt !== null && old.expiresAt.getTime() <= now)) throw keyNotActive();
      if (old.replacedBy !== null) throw keyAlreadyRotated(old.replacedBy);
      const fresh = await issueApiKey(tx, {
        orgId: old.orgId,
        name: old.name,
        type: old.type,
        scopes: old.scopes,
        ipAllowlist: old.ipAllowlist,
        expiresAt: old.expiresAt,
        rotatedFrom: old.id,
      });
      if (graceSeconds === 0) {
        await tx.update(old.id, { replacedBy: fresh.keyId, revokedAt: new Date(now) });
        await this.revocations.record(tx, [old.id], KEY_REVOCATION_REASONS.rotated);
      } else {
        const graceEnd = new Date(Math.min(now + graceSeconds * 1000, old.expiresAt?.getTime() ?? Infinity));
        // The expiry sweeper turns the end of the grace period into a revocation everywhere.
        await tx.update(old.id, { replacedBy: fresh.keyId, expiresAt: graceEnd });
      }
      return fresh;
    });
    // Local verdicts of the old key must learn its new expiry now, not in a minute.
    this.verifier.invalidateKey(keyId);
    const [key, previous] = await Promise.all([this.repository.findById(created.keyId), this.repository.findById(keyId)]);
    if (!key || !previous) throw new Error(`rotated key ${keyId} or its successor vanished`);
    return { key, apiKey: created.apiKey, previous };
  }
}
