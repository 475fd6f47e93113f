import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';

import { ApiKeyGuard, ApiKeyPrincipal, CurrentApiKey, RequireScopes } from '@signet/api-keys';

import { CreateIdpProviderDto, IdpProviderDto, IdpProviderListDto, UpdateIdpProviderDto } from './dto';
import { IdpProvidersService } from './idp-providers.service';

/** Scopes a restricted (`rk_`) key needs; `sk_` keys have them all. */
export const IDP_SCOPES = { read: 'idp:read', write: 'idp:write' } as const;

@ApiTags('federation')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('v1/idp-providers')
export class IdpProvidersController {
  constructor(private readonly providers: IdpProvidersService) {}

  @Post()
  @HttpCode(201)
  @RequireScopes(IDP_SCOPES.write)
  @ApiOperation({ summary: 'Add an identity provider', description: 'Secrets (jwt_secret, shared_secret) are stored encrypted and never returned.' })
  @ApiCreatedResponse({ type: IdpProviderDto })
  create(@CurrentApiKey() caller: ApiKeyPrincipal, @Body() body: CreateIdpProviderDto): Promise<IdpProviderDto> {
    return this.providers.create(caller, body);
  }

  @Get()
  @RequireScopes(IDP_SCOPES.read)
  @ApiOperation({ summary: "List your org's identity providers" })
  @ApiOkResponse({ type: IdpProviderListDto })
  async list(@CurrentApiKey() caller: ApiKeyPrincipal): Promise<IdpProviderListDto> {
    return { providers: await this.providers.list(caller) };
  }

  @Get(':id')
  @RequireScopes(IDP_SCOPES.read)
  @ApiParam({ name: 'id', example: 'idp_3f9a1c2b7d4e5f6a7b8c9d0e' })
  @ApiOperation({ summary: 'Get an identity provider' })
  @ApiOkResponse({ type: IdpProviderDto })
  get(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('id') id: string): Promise<IdpProviderDto> {
    return this.providers.get(caller, id);
  }

  @Patch(':id')
  @RequireScopes(IDP_SCOPES.write)
  @ApiParam({ name: 'id' })
  @ApiOperation({ summary: 'Update an identity provider', description: 'Fields given replace the stored ones; null removes an optional one. enabled=false disables it.' })
  @ApiOkResponse({ type: IdpProviderDto })
  update(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('id') id: string, @Body() body: UpdateIdpProviderDto): Promise<IdpProviderDto> {
    return this.providers.update(caller, id, body);
  }

  @Post(':id/disable')
  @HttpCode(200)
  @RequireScopes(IDP_SCOPES.write)
  @ApiParam({ name: 'id' })
  @ApiOperation({ summary: 'Disable an identity provider', description: 'Every exchange with it is refused (401 unknown_provider); tokens already issued stay valid until revoked.' })
  @ApiOkResponse({ type: IdpProviderDto })
  disable(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('id') id: string): Promise<IdpProviderDto> {
    return this.providers.update(caller, id, { enabled: false });
  }

  @Post(':id/enable')
  @HttpCode(200)
  @RequireScopes(IDP_SCOPES.write)
  @ApiParam({ name: 'id' })
  @ApiOperation({ summary: 'Enable an identity provider again' })
  @ApiOkResponse({ type: IdpProviderDto })
  enable(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('id') id: string): Promise<IdpProviderDto> {
    return this.providers.update(caller, id, { enabled: true });
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScopes(IDP_SCOPES.write)
  @ApiParam({ name: 'id' })
  @ApiOperation({ summary: 'Delete an identity provider' })
  @ApiNoContentResponse()
  async remove(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('id') id: string): Promise<void> {
    await this.providers.remove(caller, id);
  }
}
