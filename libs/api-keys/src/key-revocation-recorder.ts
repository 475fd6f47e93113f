import { Injectable } from '@nestjs/common';

import { ApiKeysTransaction, TypeOrmApiKeysTransaction } from './api-keys.repository';
import { KeyRevocations } from './key-revocations';

/** Records key revocations in a repository transaction; they are published once it commits. */
export interface KeyRevocationRecorder {
  record(tx: ApiKeysTransaction, keyIds: readonly string[], reason: string): Promise<void>;
}

export const KEY_REVOCATION_RECORDER = Symbol('KEY_REVOCATION_RECORDER');

/** {@link KeyRevocationRecorder} over KeyRevocations, which records with the transaction's EntityManager. */
@Injectable()
export class KeyRevocationsRecorder implements KeyRevocationRecorder {
  constructor(private readonly revocations: KeyRevocations) {}

  record(tx: ApiKeysTransaction, keyIds: readonly string[], reason: string): Promise<void> {
    if (!(tx instanceof TypeOrmApiKeysTransaction)) throw new Error('key revocations are recorded in a TypeORM transaction');
    return this.revocations.record(tx.manager, keyIds, reason);
  }
}
