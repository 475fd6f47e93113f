import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import { DATA_SOURCE, OidcPayloadEntity } from '@signet/persistence';

export type OidcPayload = Record<string, unknown>;

/** The storage of oidc-provider's models in PostgreSQL (table oidc_payloads). */
export interface OidcPayloadRepository {
  upsert(kind: string, id: string, payload: OidcPayload, expiresInSeconds: number | undefined): Promise<void>;
  find(kind: string, id: string): Promise<OidcPayload | undefined>;
  findBy(kind: string, field: 'userCode' | 'uid', value: string): Promise<OidcPayload | undefined>;
  consume(kind: string, id: string): Promise<void>;
  destroy(kind: string, id: string): Promise<void>;
  /** Every model of the grant, of any kind: revoking a grant ends its tokens and codes together. */
  revokeByGrantId(grantId: string): Promise<void>;
  /** Every model of the account (grants, tokens, codes, browser sessions): signed out everywhere. Returns how many grants ended. */
  revokeByAccountId(accountId: string): Promise<number>;
  /** Deletes up to `limit` models that expired before `before`; how many went. */
  deleteExpired(before: Date, limit: number): Promise<number>;
}

export const OIDC_PAYLOAD_REPOSITORY = Symbol('OIDC_PAYLOAD_REPOSITORY');

const alive = (row: OidcPayloadEntity | null): OidcPayload | undefined =>
  row && (row.expiresAt === null || row.expiresAt.getTime() > Date.now()) ? row.payload : undefined;

/** The rows of a DELETE … RETURNING: TypeORM answers it on PostgreSQL with [rows, count]. */
const returned = (out: unknown[]): Array<{ kind: string }> => (Array.isArray(out[0]) ? out[0] : out) as Array<{ kind: string }>;

@Injectable()
export class TypeOrmOidcPayloadRepository implements OidcPayloadRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  private get rows() {
    return this.dataSource.getRepository(OidcPayloadEntity);
  }

  async upsert(kind: string, id: string, payload: OidcPayload, expiresInSeconds: number | undefined): Promise<void> {
    const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
    await this.rows.upsert(
      {
        kind,
        id,
        // jsonb column: TypeORM's deep-partial type does not describe an open record.
        payload: payload as never,
        grantId: str(payload.grantId),
        userCode: str(payload.userCode),
        uid: str(payload.uid),
        expiresAt: expiresInSeconds ? new Date(Date.now() + expiresInSeconds * 1000) : null,
      },
      ['kind', 'id'],
    );
  }

  async find(kind: string, id: string): Promise<OidcPayload | undefined> {
    return alive(await this.rows.findOneBy({ kind, id }));
  }

  async findBy(kind: string, field: 'userCode' | 'uid', value: string): Promise<OidcPayload | undefined> {
    return alive(await this.rows.findOneBy({ kind, [field]: value }));
  }

  async consume(kind: string, id: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE oidc_payloads SET payload = jsonb_set(payload, '{consumed}', to_jsonb($3::bigint)) WHERE kind = $1 AND id = $2`,
      [kind, id, Math.floor(Date.now() / 1000)],
    );
  }

  async destroy(kind: string, id: string): Promise<void> {
    await this.rows.delete({ kind, id });
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.rows.delete({ grantId });
  }

  async revokeByAccountId(accountId: string): Promise<number> {
    // One statement: every kind oidc-provider stores carries the accountId in its payload.
    const rows = returned(await this.dataSource.query(`DELETE FROM oidc_payloads WHERE payload->>'accountId' = $1 RETURNING kind`, [accountId]));
    return rows.filter((r) => r.kind === 'Grant').length;
  }

  async deleteExpired(before: Date, limit: number): Promise<number> {
    const sql = `DELETE FROM oidc_payloads WHERE (kind, id) IN (SELECT kind, id FROM oidc_payloads WHERE expires_at < $1 LIMIT $2) RETURNING kind`;
    return returned(await this.dataSource.query(sql, [before, limit])).length;
  }
}

/** oidc-provider's adapter interface over the repository: one instance per model name. */
export function oidcAdapterClass(repository: OidcPayloadRepository) {
  return class PostgresOidcAdapter {
    constructor(private readonly kind: string) {}
    upsert(id: string, payload: OidcPayload, expiresIn?: number) {
      return repository.upsert(this.kind, id, payload, expiresIn);
    }
    find(id: string) {
      return repository.find(this.kind, id);
    }
    findByUserCode(userCode: string) {
      return repository.findBy(this.kind, 'userCode', userCode);
    }
    findByUid(uid: string) {
      return repository.findBy(this.kind, 'uid', uid);
    }
    consume(id: string) {
      return repository.consume(this.kind, id);
    }
    destroy(id: string) {
      return repository.destroy(this.kind, id);
    }
    revokeByGrantId(grantId: string) {
      return repository.revokeByGrantId(grantId);
    }
  };
}
