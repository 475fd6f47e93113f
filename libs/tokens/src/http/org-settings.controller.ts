import { Body, Controller, Get, Patch, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { ApiKeyGuard, ApiKeyPrincipal, CurrentApiKey, RequireScopes } from '@signet/api-keys';

import type { OrgSettings } from '../org-settings.repository';
import { GetOrgSettingsUseCase } from '../usecases/get-org-settings/get-org-settings.usecase';
import { UpdateOrgSettingsUseCase } from '../usecases/update-org-settings/update-org-settings.usecase';
import { OrgSettingsDto, UpdateOrgSettingsDto } from './dto';

/** Scopes a restricted (`rk_`) key needs; `sk_` keys have them all. */
export const ORG_SCOPES = { read: 'org:read', write: 'org:write' } as const;

@ApiTags('org')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('v1/org/settings')
export class OrgSettingsController {
  constructor(
    private readonly getSettings: GetOrgSettingsUseCase,
    private readonly updateSettings: UpdateOrgSettingsUseCase,
  ) {}

  @Get()
  @RequireScopes(ORG_SCOPES.read)
  @ApiOperation({ summary: "Your org's settings", description: 'Defaults until changed.' })
  @ApiOkResponse({ type: OrgSettingsDto })
  async get(@CurrentApiKey() caller: ApiKeyPrincipal): Promise<OrgSettingsDto> {
    return toSettingsResponse(await this.getSettings.execute({ orgId: caller.orgId }));
  }

  @Patch()
  @RequireScopes(ORG_SCOPES.write)
  @ApiOperation({
    summary: "Change your org's settings",
    description:
      'Fields given replace the stored ones. will_on_revoke applies to tokens issued, refreshed or exchanged from now on, ' +
      'and to MQTT connections with an API key verified from now on (key verdicts are cached up to SIGNET_KEY_CACHE_MS); ' +
      'live sessions keep the policy of the credential they connected (or last re-authenticated) with.',
  })
  @ApiOkResponse({ type: OrgSettingsDto })
  async update(@CurrentApiKey() caller: ApiKeyPrincipal, @Body() body: UpdateOrgSettingsDto): Promise<OrgSettingsDto> {
    return toSettingsResponse(await this.updateSettings.execute({ orgId: caller.orgId, willOnRevoke: body.will_on_revoke }));
  }
}

const toSettingsResponse = (settings: OrgSettings): OrgSettingsDto => ({ will_on_revoke: settings.willOnRevoke });
