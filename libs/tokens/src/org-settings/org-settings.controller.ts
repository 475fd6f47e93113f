import { Body, Controller, Get, Patch, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { ApiKeyGuard, ApiKeyPrincipal, CurrentApiKey, RequireScopes } from '@signet/api-keys';

import { OrgSettingsDto, UpdateOrgSettingsDto } from './dto';
import { OrgSettingsService } from './org-settings.service';

/** Scopes a restricted (`rk_`) key needs; `sk_` keys have them all. */
export const ORG_SCOPES = { read: 'org:read', write: 'org:write' } as const;

@ApiTags('org')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('v1/org/settings')
export class OrgSettingsController {
  constructor(private readonly settings: OrgSettingsService) {}

  @Get()
  @RequireScopes(ORG_SCOPES.read)
  @ApiOperation({ summary: "Your org's settings", description: 'Defaults until changed.' })
  @ApiOkResponse({ type: OrgSettingsDto })
  get(@CurrentApiKey() caller: ApiKeyPrincipal): Promise<OrgSettingsDto> {
    return this.settings.get(caller.orgId);
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
  update(@CurrentApiKey() caller: ApiKeyPrincipal, @Body() body: UpdateOrgSettingsDto): Promise<OrgSettingsDto> {
    return this.settings.update(caller.orgId, body);
  }
}
