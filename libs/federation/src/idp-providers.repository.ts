import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import type { ApiKeyPrincipal } from '@signet/api-keys';
import { randomHex } from '@signet/credentials';
import { DATA_SOURCE, notFound, SECRET_BOX } from '@signet/http';
import { IdpProviderEntity, SecretBox } from '@signet/persistence';

import type { CreateIdpProviderDto, IdpProviderDto, UpdateIdpProviderDto } from './dto';
import { mergeInput, ProviderInput, ProviderSettings, validateProvider } from './settings';

export const newIdpProviderId = (): string => `idp_${randomHex(12)}`;
export const IDP_PROVIDER_ID = /^idp_[0-9a-f]{24}$/;

/** SecretBox context: a sealed secret only opens for the provider it was stored with. */
export const secretContext = (providerId: string): string => `idp_provider:${providerId}`;

/** A provider as the exchange needs it: settings and the secret in clear (memory only). */
export interface LoadedProvider {
  id: string;
  orgId: string;
  kind: IdpProviderEntity['kind'];
  enabled: boolean;
  settings: ProviderSettings;
  secret: string | null;
  /** Changes whenever the row does: verifiers are cached per version. */
  version: string;
}

function toInput(dto: CreateIdpProviderDto | UpdateIdpProviderDto): ProviderInput {
  // Everything but the row-level fields is a setting.
  const { name: _name, enabled: _enabled, ...rest } = dto;
  const input: ProviderInput = { ...rest };
  delete (input as { kind?: unknown }).kind;
  return input;
}

/** Settings are only ever written by validateProvider, so the stored JSON has the validated shape. */
const fromStored = (row: IdpProviderEntity): ProviderSettings => row.settings as unknown as ProviderSettings;
const toStored = (settings: ProviderSettings): Record<string, unknown> => ({ ...settings });

export function toProviderDto(row: IdpProviderEntity): IdpProviderDto {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    enabled: row.enabled,
    settings: row.settings,
    has_secret: row.secretCiphertext !== null,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/** CRUD of an org's identity providers. Secrets are sealed with the SecretBox and never leave this service. */
@Injectable()
export class IdpProvidersService {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(SECRET_BOX) private readonly secretBox: SecretBox,
  ) {}

  async create(caller: ApiKeyPrincipal, dto: CreateIdpProviderDto): Promise<IdpProviderDto> {
    const { settings, secret } = await validateProvider(dto.kind, toInput(dto));
    const id = newIdpProviderId();
    const repo = this.dataSource.getRepository(IdpProviderEntity);
    // save(), not insert(): TypeORM's insert typing cannot take a free-form jsonb object.
    await repo.save({
      id,
      orgId: caller.orgId,
      name: dto.name ?? dto.kind,
      kind: dto.kind,
      settings: toStored(settings),
      secretCiphertext: secret === null ? null : this.secretBox.seal(secret, secretContext(id)),
      enabled: dto.enabled ?? true,
    });
    return toProviderDto(await repo.findOneByOrFail({ id }));
  }

  async list(caller: ApiKeyPrincipal): Promise<IdpProviderDto[]> {
    const rows = await this.dataSource.getRepository(IdpProviderEntity).find({ where: { orgId: caller.orgId }, order: { createdAt: 'ASC', id: 'ASC' } });
    return rows.map(toProviderDto);
  }

  async get(caller: ApiKeyPrincipal, id: string): Promise<IdpProviderDto> {
    return toProviderDto(await this.find(caller, id));
  }

  async update(caller: ApiKeyPrincipal, id: string, dto: UpdateIdpProviderDto): Promise<IdpProviderDto> {
    const row = await this.find(caller, id);
    const current = row.secretCiphertext === null ? null : this.secretBox.open(row.secretCiphertext, secretContext(row.id));
    const { settings, secret } = await validateProvider(row.kind, mergeInput(fromStored(row), toInput(dto)), current);
    const repo = this.dataSource.getRepository(IdpProviderEntity);
    // Without updatedAt, so the column takes the time of this update.
    const { updatedAt: _previous, ...unchanged } = row;
    await repo.save({
      ...unchanged,
      name: dto.name ?? row.name,
      enabled: dto.enabled ?? row.enabled,
      settings: toStored(settings),
      // Re-sealed on every update: also moves it to the current master key.
      secretCiphertext: secret === null ? null : this.secretBox.seal(secret, secretContext(row.id)),
    });
    return toProviderDto(await repo.findOneByOrFail({ id: row.id }));
  }

  async remove(caller: ApiKeyPrincipal, id: string): Promise<void> {
    await this.find(caller, id);
    await this.dataSource.getRepository(IdpProviderEntity).delete({ id, orgId: caller.orgId });
  }

  /** For the exchange: the provider with its secret opened, or null when there is none with this id. */
  async load(id: string): Promise<LoadedProvider | null> {
    if (!IDP_PROVIDER_ID.test(id)) return null;
    const row = await this.dataSource.getRepository(IdpProviderEntity).findOneBy({ id });
    if (!row) return null;
    return {
      id: row.id,
      orgId: row.orgId,
      kind: row.kind,
      enabled: row.enabled,
      settings: fromStored(row),
      secret: row.secretCiphertext === null ? null : this.secretBox.open(row.secretCiphertext, secretContext(row.id)),
      version: row.updatedAt.toISOString(),
    };
  }

  private async find(caller: ApiKeyPrincipal, id: string): Promise<IdpProviderEntity> {
    const row = IDP_PROVIDER_ID.test(id) ? await this.dataSource.getRepository(IdpProviderEntity).findOneBy({ id, orgId: caller.orgId }) : null;
    // Another org's provider is as unknown as a missing one.
    if (!row) throw notFound('idp_provider_not_found', `no identity provider ${id} in this org`);
    return row;
  }
}
