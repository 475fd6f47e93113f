import { Body, Controller, Delete, Get, HttpCode, Inject, Put, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { ApiKeyGuard, ApiKeyPrincipal, CurrentApiKey, RequireScopes } from '@signet/api-keys';

import { ACCOUNTS_OPTIONS, AccountsOptions } from '../options';
import { ConfigureSsoUseCase } from '../usecases/configure-sso/configure-sso.usecase';
import { DeleteSsoUseCase } from '../usecases/delete-sso/delete-sso.usecase';
import { GetSsoUseCase } from '../usecases/get-sso/get-sso.usecase';
import { SsoConnectionDto, SsoSettingsDto, toSsoConnectionResponse } from './dto';

/** The org's OpenID Provider for its people's sign-in (SSO): owners, admins and secret keys write, viewers read. */
@ApiTags('accounts')
@ApiBearerAuth()
@Controller('v1/sso')
@UseGuards(ApiKeyGuard)
@RequireScopes()
export class SsoController {
  constructor(
    @Inject(ACCOUNTS_OPTIONS) private readonly options: AccountsOptions,
    private readonly configure: ConfigureSsoUseCase,
    private readonly find: GetSsoUseCase,
    private readonly remove: DeleteSsoUseCase,
  ) {}

  @Get()
  @ApiOperation({ summary: "The org's SSO provider (never its client secret)" })
  @ApiOkResponse({ type: SsoConnectionDto })
  async get(@CurrentApiKey() caller: ApiKeyPrincipal): Promise<SsoConnectionDto> {
    return toSsoConnectionResponse(await this.find.execute({ orgId: caller.orgId }), this.options.ssoRedirectUri);
  }

  @Put()
  @ApiOperation({ summary: "Set the org's SSO provider (its discovery is checked first: 422 sso_discovery_failed)" })
  @ApiOkResponse({ type: SsoConnectionDto })
  async put(@CurrentApiKey() caller: ApiKeyPrincipal, @Body() body: SsoSettingsDto): Promise<SsoConnectionDto> {
    const saved = await this.configure.execute({
      orgId: caller.orgId,
      name: body.name,
      issuer: body.issuer,
      clientId: body.client_id,
      clientSecret: body.client_secret,
      allowedDomains: body.allowed_domains,
      defaultRole: body.default_role ?? null,
      linkByEmail: body.link_by_email ?? false,
    });
    return toSsoConnectionResponse(saved, this.options.ssoRedirectUri);
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({ summary: "Remove the org's SSO provider and its links to accounts" })
  @ApiNoContentResponse()
  async delete(@CurrentApiKey() caller: ApiKeyPrincipal): Promise<void> {
    await this.remove.execute({ orgId: caller.orgId });
  }
}
