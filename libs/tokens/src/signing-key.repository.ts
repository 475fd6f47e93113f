import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import { DATA_SOURCE } from '@signet/persistence';
import { ADVISORY_LOCKS, advisoryXactLock, inTransaction, SigningKeyEntity, StoredPublicJwk } from '@signet/persistence';

/** A stored signing key: the private JWK only sealed by the SecretBox. */
export interface SigningKeyRecord {
  kid: string;
  privateJwkCiphertext: string;
  publicJwk: StoredPublicJwk;
  createdAt: Date;
  retiredAt: Date | null;
  notAfter: Date | null;
}

export type NewSigningKey = Pick<SigningKeyRecord, 'kid' | 'privateJwkCiphertext' | 'publicJwk'>;

/**
 * The SQL of `signing_keys`. Creating and rotating run under one advisory
 * lock, so concurrent starts create one key and concurrent rotations take turns.
 */
export interface SigningKeyRepository {
  /** Inserts `create()`'s key unless an active key exists; returns it, or null when there was one. */
  createFirstKey(create: () => Promise<NewSigningKey>): Promise<NewSigningKey | null>;
  /**
   * Retires the active key(s) and inserts `next` as the active one. A retired
   * key stays published until the later of now + `graceSeconds` and the latest
   * expiry of a token issued during its life + `slackSeconds`. Returns the retired kids. With `unlessAlg`:
   * nothing is done (null) when the active key already has that algorithm, so that replicas starting
   * together switch algorithm once.
   */
  rotate(next: NewSigningKey, graceSeconds: number, slackSeconds: number, unlessAlg?: string): Promise<string[] | null>;
  /** The active key and the retired ones still published, newest first. */
  listPublished(): Promise<SigningKeyRecord[]>;
}

export const SIGNING_KEY_REPOSITORY = Symbol('SIGNING_KEY_REPOSITORY');

@Injectable()
export class TypeOrmSigningKeyRepository implements SigningKeyRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  createFirstKey(create: () => Promise<NewSigningKey>): Promise<NewSigningKey | null> {
    return inTransaction(this.dataSource, async (m) => {
      await advisoryXactLock(m, ADVISORY_LOCKS.signingKeys);
      const rows: Array<{ present: boolean }> = await m.query(
        'SELECT EXISTS (SELECT 1 FROM signing_keys WHERE retired_at IS NULL) AS present',
      );
      if (rows[0]?.present) return null;
      const key = await create();
      await m.insert(SigningKeyEntity, { ...key, retiredAt: null, notAfter: null });
      return key;
    });
  }

  rotate(next: NewSigningKey, graceSeconds: number, slackSeconds: number, unlessAlg?: string): Promise<string[] | null> {
    return inTransaction(this.dataSource, async (m) => {
      await advisoryXactLock(m, ADVISORY_LOCKS.signingKeys);
      if (unlessAlg !== undefined) {
        // A key stored before its JWK recorded `alg` is RS256, the only algorithm then.
        const rows: Array<{ present: boolean }> = await m.query(
          `SELECT EXISTS (SELECT 1 FROM signing_keys WHERE retired_at IS NULL AND COALESCE(public_jwk->>'alg', 'RS256') = $1) AS present`,
          [unlessAlg],
        );
        if (rows[0]?.present) return null;
      }
      const rows: Array<{ kid: string }> = await m.query(
        `UPDATE signing_keys sk
            SET retired_at = now(),
                not_after = GREATEST(
                  now() + make_interval(secs => $1),
                  (SELECT max(t.expires_at) + make_interval(secs => $2) FROM issued_tokens t WHERE t.issued_at >= sk.created_at))
          WHERE sk.retired_at IS NULL
          RETURNING sk.kid`,
        [graceSeconds, slackSeconds],
      ).then((raw: unknown) => updatedRows<{ kid: string }>(raw));
      await m.insert(SigningKeyEntity, { ...next, retiredAt: null, notAfter: null });
      return rows.map((r) => r.kid);
    });
  }

  async listPublished(): Promise<SigningKeyRecord[]> {
    const rows = await this.dataSource
      .getRepository(SigningKeyEntity)
      .createQueryBuilder('k')
      .where('k.retired_at IS NULL OR k.not_after > now()')
      .orderBy('k.created_at', 'DESC')
      .getMany();
    return rows.map(({ kid, privateJwkCiphertext, publicJwk, createdAt, retiredAt, notAfter }) => ({
      kid,
      privateJwkCiphertext,
      publicJwk,
      createdAt,
      retiredAt,
      notAfter,
    }));
  }
}

/** node-postgres via TypeORM answers UPDATE … RETURNING with [rows, count]. */
function updatedRows<T>(raw: unknown): T[] {
  if (Array.isArray(raw) && raw.length === 2 && Array.isArray(raw[0]) && typeof raw[1] === 'number') return raw[0] as T[];
  return Array.isArray(raw) ? (raw as T[]) : [];
}
