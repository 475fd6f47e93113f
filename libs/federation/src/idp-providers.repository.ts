import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import { randomHex } from '@signet/credentials';
import { DATA_SOURCE, preparedQuery } from '@signet/persistence';
import { IdpProviderEntity, IdpProviderKind } from '@signet/persistence';

import type { ProviderSettings } from './providers/settings';

export const newIdpProviderId = (): string => `idp_${randomHex(12)}`;
export const IDP_PROVIDER_ID = /^idp_[0-9a-f]{24}$/;

/** A provider as stored: validated settings, and its shared secret sealed (SecretBox) or null. */
export interface StoredIdpProvider {
  id: string;
  orgId: string;
  name: string;
  kind: IdpProviderKind;
  enabled: boolean;
  settings: ProviderSettings;
  secretCiphertext: string | null;
  createdAt: Date;
  /** Changes whenever the row does: verifiers are cached per version. */
  updatedAt: Date;
}

/** What a write sets; the timestamps are the database's. */
export type IdpProviderWrite = Omit<StoredIdpProvider, 'createdAt' | 'updatedAt'>;

/** The SQL of identity providers. Ids that cannot be provider ids are never looked up. */
export interface IdpProviderRepository {
  insert(provider: IdpProviderWrite): Promise<StoredIdpProvider>;
  /** Oldest first. */
  listInOrg(orgId: string): Promise<StoredIdpProvider[]>;
  findInOrg(orgId: string, id: string): Promise<StoredIdpProvider | null>;
  /** Any org's: for the exchange, which answers alike for missing and foreign providers. */
  findById(id: string): Promise<StoredIdpProvider | null>;
  /** Replaces the row's fields; updatedAt becomes the time of this update. */
  update(provider: IdpProviderWrite): Promise<StoredIdpProvider>;
  deleteInOrg(orgId: string, id: string): Promise<void>;
}

export const IDP_PROVIDER_REPOSITORY = Symbol('IDP_PROVIDER_REPOSITORY');

/** The columns a stored provider is made of (the events secret is read where events are received). */
type ProviderColumns = Pick<IdpProviderEntity, 'id' | 'orgId' | 'name' | 'kind' | 'enabled' | 'settings' | 'secretCiphertext' | 'createdAt' | 'updatedAt'>;

/** Settings are only ever written after validateProvider, so the stored JSON has the validated shape. */
const fromRow = (row: ProviderColumns): StoredIdpProvider => ({
  id: row.id,
  orgId: row.orgId,
  name: row.name,
  kind: row.kind,
  enabled: row.enabled,
  settings: row.settings as unknown as ProviderSettings,
  secretCiphertext: row.secretCiphertext,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

/** The exchange's lookup, on its hot path: prepared once per connection, without TypeORM's query builder. */
const FIND_BY_ID_SQL = `SELECT id, org_id, name, kind, enabled, settings, secret_ciphertext, created_at, updated_at FROM idp_providers WHERE id = $1`;

interface ProviderRow {
  id: string;
  org_id: string;
  name: string;
  kind: IdpProviderKind;
  enabled: boolean;
  settings: Record<string, unknown>;
  secret_ciphertext: string | null;
  created_at: Date;
  updated_at: Date;
}

const toRow = (provider: IdpProviderWrite) => ({ ...provider, settings: { ...provider.settings } as Record<string, unknown> });

@Injectable()
export class TypeOrmIdpProviderRepository implements IdpProviderRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  private get rows() {
    return this.dataSource.getRepository(IdpProviderEntity);
  }

  async insert(provider: IdpProviderWrite): Promise<StoredIdpProvider> {
    // save(), not insert(): TypeORM's insert typing cannot take a free-form jsonb object.
    await this.rows.save(toRow(provider));
    return fromRow(await this.rows.findOneByOrFail({ id: provider.id }));
  }

  async listInOrg(orgId: string): Promise<StoredIdpProvider[]> {
    const rows = await this.rows.find({ where: { orgId }, order: { createdAt: 'ASC', id: 'ASC' } });
    return rows.map(fromRow);
  }

  async findInOrg(orgId: string, id: string): Promise<StoredIdpProvider | null> {
    if (!IDP_PROVIDER_ID.test(id)) return null;
    const row = await this.rows.findOneBy({ id, orgId });
    return row ? fromRow(row) : null;
  }

  async findById(id: string): Promise<StoredIdpProvider | null> {
    if (!IDP_PROVIDER_ID.test(id)) return null;
    const [row] = await preparedQuery<ProviderRow>(this.dataSource, 'signet_idp_provider_by_id', FIND_BY_ID_SQL, [id]);
    if (!row) return null;
    return fromRow({
      id: row.id,
      orgId: row.org_id,
      name: row.name,
      kind: row.kind,
      enabled: row.enabled,
      settings: row.settings,
      secretCiphertext: row.secret_ciphertext,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    });
  }

  async update(provider: IdpProviderWrite): Promise<StoredIdpProvider> {
    // Without updatedAt, so the column takes the time of this update.
    await this.rows.save(toRow(provider));
    return fromRow(await this.rows.findOneByOrFail({ id: provider.id }));
  }

  async deleteInOrg(orgId: string, id: string): Promise<void> {
    await this.rows.delete({ id, orgId });
  }
}
