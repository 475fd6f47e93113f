import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

import type { ApiKeyType, WillPolicy } from '@signet/credentials';
import { DATA_SOURCE } from '@signet/persistence';
import {
  ADVISORY_LOCKS,
  advisoryXactLock,
  ApiKeyEntity,
  inTransaction,
  keysetAfter,
  KeysetPosition,
  OrgEntity,
} from '@signet/persistence';

/** A key as the lifecycle reads it. */
export interface StoredApiKey {
  id: string;
  orgId: string;
  name: string;
  type: ApiKeyType;
  scopes: string[];
  ipAllowlist: string[];
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  rotatedFrom: string | null;
  replacedBy: string | null;
}

export interface NewApiKey {
  id: string;
  orgId: string;
  name: string;
  type: ApiKeyType;
  /** bcrypt of the key string; the string itself is never stored. */
  keyHash: string;
  scopes: string[];
  ipAllowlist: string[];
  expiresAt: Date | null;
  rotatedFrom: string | null;
}

/** What verification reads in one round trip: the key, its hash and its org's will policy. */
export interface VerifiableApiKey extends Pick<NewApiKey, 'id' | 'orgId' | 'name' | 'type' | 'keyHash' | 'scopes' | 'ipAllowlist'> {
  /** ms epoch; null = never. */
  expiresAt: number | null;
  revoked: boolean;
  /** null: the org has no settings row (the default applies). */
  willOnRevoke: WillPolicy | null;
}

/** Writes that must commit together (a rotation, a revocation, an expiry pass, the bootstrap). */
export interface ApiKeysTransaction {
  /** The key, locked until the transaction ends; another org's key is as unknown as a missing one. */
  findInOrgForUpdate(orgId: string, id: string): Promise<StoredApiKey | null>;
  insert(key: NewApiKey): Promise<void>;
  update(id: string, change: Partial<Pick<StoredApiKey, 'replacedBy' | 'revokedAt' | 'expiresAt'>>): Promise<void>;
  /** Revokes the keys `id` replaced that are still in their rotation grace; returns their ids. */
  revokeGracePredecessors(id: string, at: Date): Promise<string[]>;
  /** Marks up to `limit` keys whose `expires_at` has passed as enforced (skipping rows other replicas hold); returns their ids. */
  claimExpired(limit: number): Promise<string[]>;
  /** Serialises bootstraps of concurrent processes until the transaction ends. */
  lockBootstrap(): Promise<void>;
  anyOrgExists(): Promise<boolean>;
  insertOrg(org: { id: string; name: string }): Promise<void>;
}

/** The SQL of API keys; use cases see only this interface. */
export interface ApiKeysRepository {
  transaction<T>(work: (tx: ApiKeysTransaction) => Promise<T>): Promise<T>;
  insert(key: NewApiKey): Promise<void>;
  findById(id: string): Promise<StoredApiKey | null>;
  findInOrg(orgId: string, id: string): Promise<StoredApiKey | null>;
  /** Newest first (created_at, id), strictly after `after`, at most `take` rows. */
  listInOrg(orgId: string, take: number, after: KeysetPosition | null): Promise<StoredApiKey[]>;
  findForVerification(id: string): Promise<VerifiableApiKey | null>;
  /** Sets `last_used_at`, unless another process did within the last minute. */
  touchLastUsed(id: string): Promise<void>;
}

export const API_KEYS_REPOSITORY = Symbol('API_KEYS_REPOSITORY');

/**
 * The rows of an `UPDATE … RETURNING` run through `manager.query`: TypeORM's
 * postgres driver answers UPDATE/DELETE with `[rows, rowCount]` but other
 * statements with the rows alone.
 */
export function returningRows<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
    return result[0] as T[];
  }
  return Array.isArray(result) ? (result as T[]) : [];
}

/** One key and its org's will policy, as `findForVerification` reads them. */
interface VerificationRow {
  id: string;
  org_id: string;
  name: string;
  type: ApiKeyType;
  key_hash: string;
  scopes: unknown;
  ip_allowlist: unknown;
  expires_at: Date | string | null;
  revoked_at: Date | string | null;
  will_on_revoke: string | null;
}

/** jsonb arrays arrive parsed from pg and PGlite; a string (some drivers) is parsed here. */
const jsonArray = (value: unknown): string[] => {
  const v: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
};

const KEY_ID_PATTERN = /^[0-9a-z]{12}$/;

/** A transaction of {@link TypeOrmApiKeysRepository}; its manager is what KeyRevocations records with. */
export class TypeOrmApiKeysTransaction implements ApiKeysTransaction {
  constructor(readonly manager: EntityManager) {}

  findInOrgForUpdate(orgId: string, id: string): Promise<StoredApiKey | null> {
    if (!KEY_ID_PATTERN.test(id)) return Promise.resolve(null);
    return this.manager.findOne(ApiKeyEntity, { where: { id, orgId }, lock: { mode: 'pessimistic_write' } });
  }

  async insert(key: NewApiKey): Promise<void> {
    await this.manager.insert(ApiKeyEntity, key);
  }

  async update(id: string, change: Partial<Pick<StoredApiKey, 'replacedBy' | 'revokedAt' | 'expiresAt'>>): Promise<void> {
    await this.manager.update(ApiKeyEntity, { id }, change);
  }

  async revokeGracePredecessors(id: string, at: Date): Promise<string[]> {
    const rows = returningRows<{ id: string }>(
      await this.manager.query(
        `UPDATE api_keys SET revoked_at = $2 WHERE replaced_by = $1 AND revoked_at IS NULL
            AND (expires_at IS NULL OR expires_at > $2) RETURNING id`,
        [id, at],
      ),
    );
    return rows.map((r) => r.id);
  }

  async claimExpired(limit: number): Promise<string[]> {
    const rows = returningRows<{ id: string }>(
      await this.manager.query(
        `UPDATE api_keys SET expiry_enforced_at = now()
          WHERE id IN (SELECT id FROM api_keys
                        WHERE expires_at <= now() AND expiry_enforced_at IS NULL AND revoked_at IS NULL
                        ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)
          RETURNING id`,
        [limit],
      ),
    );
    return rows.map((r) => r.id);
  }

  lockBootstrap(): Promise<void> {
    return advisoryXactLock(this.manager, ADVISORY_LOCKS.bootstrap);
  }

  async anyOrgExists(): Promise<boolean> {
    const rows: Array<{ present: boolean }> = await this.manager.query('SELECT EXISTS (SELECT 1 FROM orgs) AS present');
    return rows[0]?.present === true;
  }

  async insertOrg(org: { id: string; name: string }): Promise<void> {
    await this.manager.insert(OrgEntity, { id: org.id, name: org.name, maxTokenTtlSeconds: null });
  }
}

@Injectable()
export class TypeOrmApiKeysRepository implements ApiKeysRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  transaction<T>(work: (tx: ApiKeysTransaction) => Promise<T>): Promise<T> {
    return inTransaction(this.dataSource, (manager) => work(new TypeOrmApiKeysTransaction(manager)));
  }

  async insert(key: NewApiKey): Promise<void> {
    await this.dataSource.manager.insert(ApiKeyEntity, key);
  }

  findById(id: string): Promise<StoredApiKey | null> {
    return this.dataSource.getRepository(ApiKeyEntity).findOneBy({ id });
  }

  findInOrg(orgId: string, id: string): Promise<StoredApiKey | null> {
    if (!KEY_ID_PATTERN.test(id)) return Promise.resolve(null);
    return this.dataSource.getRepository(ApiKeyEntity).findOneBy({ id, orgId });
  }

  listInOrg(orgId: string, take: number, after: KeysetPosition | null): Promise<StoredApiKey[]> {
    const qb = this.dataSource
      .getRepository(ApiKeyEntity)
      .createQueryBuilder('k')
      .where('k.org_id = :org', { org: orgId })
      .orderBy('k.created_at', 'DESC')
      .addOrderBy('k.id', 'DESC')
      .take(take);
    if (after !== null) {
      const condition = keysetAfter('k.created_at', 'k.id', after);
      qb.andWhere(condition.where, condition.parameters);
    }
    return qb.getMany();
  }

  async findForVerification(id: string): Promise<VerifiableApiKey | null> {
    // The org's will policy comes with the key in the same round trip (no row = the default).
    const rows: VerificationRow[] = await this.dataSource.query(
      `SELECT k.id, k.org_id, k.name, k.type, k.key_hash, k.scopes, k.ip_allowlist, k.expires_at, k.revoked_at,
              s.will_on_revoke
         FROM api_keys k
         LEFT JOIN org_settings s ON s.org_id = k.org_id
        WHERE k.id = $1`,
      [id],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      id: row.id,
      orgId: row.org_id,
      name: row.name,
      type: row.type,
      keyHash: row.key_hash,
      scopes: jsonArray(row.scopes),
      ipAllowlist: jsonArray(row.ip_allowlist),
      expiresAt: row.expires_at === null ? null : new Date(row.expires_at).getTime(),
      revoked: row.revoked_at !== null,
      willOnRevoke: row.will_on_revoke === 'publish' ? 'publish' : row.will_on_revoke === 'suppress' ? 'suppress' : null,
    };
  }

  async touchLastUsed(id: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE api_keys SET last_used_at = now()
        WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '60 seconds')`,
      [id],
    );
  }
}
