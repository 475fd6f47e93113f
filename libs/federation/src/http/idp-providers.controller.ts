import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';

import { ApiKeyGuard, ApiKeyPrincipal, CurrentApiKey, RequireScopes } from '@signet/api-keys';
import { ApiProblems } from '@signet/http';

import { FEDERATION_ERRORS } from '../errors';
import type { ProviderInput } from '../providers/settings';
import { CreateProviderUseCase } from '../usecases/create-provider/create-provider.usecase';
import { DeleteProviderUseCase } from '../usecases/delete-provider/delete-provider.usecase';
import { GetProviderUseCase } from '../usecases/get-provider/get-provider.usecase';
import { ListProvidersUseCase } from '../usecases/list-providers/list-providers.usecase';
import { UpdateProviderUseCase } from '../usecases/update-provider/update-provider.usecase';
import { CreateIdpProviderDto, IdpProviderDto, IdpProviderFieldsDto, IdpProviderListDto, toProviderDto, UpdateIdpProviderDto } from './dto';

/** Scopes a restricted (`rk_`) key needs; `sk_` keys have them all. */
export const IDP_SCOPES = { read: 'idp:read', write: 'idp:write' } as const;

/** Everything but the row-level fields (name, enabled, kind) is a setting. */
function settingsOf(dto: IdpProviderFieldsDto & { enabled?: boolean; kind?: unknown }): ProviderInput {
  const { name: _name, enabled: _enabled, kind: _kind, ...settings } = dto;
  return settings;
}

@ApiTags('federation')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('v1/idp-providers')
export class IdpProvidersController {
  constructor(
    private readonly createProvider: CreateProviderUseCase,
    private readonly listProviders: ListProvidersUseCase,
    private readonly getProvider: GetProviderUseCase,
    private readonly updateProvider: UpdateProviderUseCase,
    private readonly deleteProvider: DeleteProviderUseCase,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiProblems({ 400: [FEDERATION_ERRORS.invalidProviderSettings] })
  @RequireScopes(IDP_SCOPES.write)
  @ApiOperation({ summary: 'Add an identity provider', description: 'Secrets (jwt_secret, shared_secret) are stored encrypted and never returned.' })
  @ApiCreatedResponse({ type: IdpProviderDto })
  async create(@CurrentApiKey() caller: ApiKeyPrincipal, @Body() body: CreateIdpProviderDto): Promise<IdpProviderDto> {
    const created = await this.createProvider.execute({ orgId: caller.orgId, kind: body.kind, name: body.name, enabled: body.enabled, settings: settingsOf(body) });
    return toProviderDto(created);
  }

  @Get()
  @RequireScopes(IDP_SCOPES.read)
  @ApiOperation({ summary: "List your org's identity providers" })
  @ApiOkResponse({ type: IdpProviderListDto })
  async list(@CurrentApiKey() caller: ApiKeyPrincipal): Promise<IdpProviderListDto> {
    return { providers: (await this.listProviders.execute({ orgId: caller.orgId })).map(toProviderDto) };
  }

  @Get(':id')
  @ApiProblems({ 404: [FEDERATION_ERRORS.providerNotFound] })
  @RequireScopes(IDP_SCOPES.read)
  @ApiParam({ name: 'id', example: 'idp_3f9a1c2b7d4e5f6a7b8c9d0e' })
  @ApiOperation({ summary: 'Get an identity provider' })
  @ApiOkResponse({ type: IdpProviderDto })
  async get(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('id') id: string): Promise<IdpProviderDto> {
    return toProviderDto(await this.getProvider.execute({ orgId: caller.orgId, id }));
  }

  @Patch(':id')
  @ApiProblems({ 400: [FEDERATION_ERRORS.invalidProviderSettings], 404: [FEDERATION_ERRORS.providerNotFound] })
  @RequireScopes(IDP_SCOPES.write)
  @ApiParam({ name: 'id' })
  @ApiOperation({ summary: 'Update an identity provider', description: 'Fields given replace the stored ones; null removes an optional one. enabled=false disables it.' })
  @ApiOkResponse({ type: IdpProviderDto })
  async update(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('id') id: string, @Body() body: UpdateIdpProviderDto): Promise<IdpProviderDto> {
    const updated = await this.updateProvider.execute({ orgId: caller.orgId, id, name: body.name, enabled: body.enabled, settings: settingsOf(body) });
    return toProviderDto(updated);
  }

  @Post(':id/disable')
  @HttpCode(200)
  @RequireScopes(IDP_SCOPES.write)
  @ApiParam({ name: 'id' })
  @ApiOperation({
    summary: 'Disable an identity provider',
    description: `Every exchange with it is refused (401 ${FEDERATION_ERRORS.unknownProvider}); tokens already issued stay valid until revoked.`,
  })
  @ApiOkResponse({ type: IdpProviderDto })
  async disable(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('id') id: string): Promise<IdpProviderDto> {
    return toProviderDto(await this.updateProvider.execute({ orgId: caller.orgId, id, enabled: false, settings: {} }));
  }

  @Post(':id/enable')
  @HttpCode(200)
  @RequireScopes(IDP_SCOPES.write)
  @ApiParam({ name: 'id' })
  @ApiOperation({ summary: 'Enable an identity provider again' })
  @ApiOkResponse({ type: IdpProviderDto })
  async enable(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('id') id: string): Promise<IdpProviderDto> {
    return toProviderDto(await this.updateProvider.execute({ orgId: caller.orgId, id, enabled: true, settings: {} }));
  }

  @Delete(':id')
  @ApiProblems({ 404: [FEDERATION_ERRORS.providerNotFound] })
  @HttpCode(204)
  @RequireScopes(IDP_SCOPES.write)
  @ApiParam({ name: 'id' })
  @ApiOperation({ summary: 'Delete an identity provider' })
  @ApiNoContentResponse()
  async remove(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('id') id: string): Promise<void> {
    await this.deleteProvider.execute({ orgId: caller.orgId, id });
  }
}
