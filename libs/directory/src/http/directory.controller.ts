import { Body, Controller, Param, Patch, Post, Put, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';

import { ApiKeyGuard, ApiKeyPrincipal, CurrentApiKey, RequireScopes } from '@signet/api-keys';

import { RotateScimTokenUseCase } from '../usecases/rotate-scim-token/rotate-scim-token.usecase';
import { SetGroupPermissionsUseCase } from '../usecases/set-group-permissions/set-group-permissions.usecase';
import { UpdateDirectorySettingsUseCase } from '../usecases/update-settings/update-settings.usecase';
import {
  DirectoryGroupDto,
  DirectorySettingsDto,
  GroupPermissionsDto,
  ScimTokenDto,
  toGroupResponse,
  toSettingsResponse,
  UpdateDirectorySettingsDto,
} from './dto';

/** Scopes a restricted (`rk_`) key needs; `sk_` keys have them all. */
export const DIRECTORY_SCOPES = { write: 'directory:write' } as const;

@ApiTags('directory')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@RequireScopes(DIRECTORY_SCOPES.write)
@Controller('v1/directory')
export class DirectoryController {
  constructor(
    private readonly rotateToken: RotateScimTokenUseCase,
    private readonly updateSettings: UpdateDirectorySettingsUseCase,
    private readonly setPermissions: SetGroupPermissionsUseCase,
  ) {}

  @Post('scim-token')
  @ApiOperation({ summary: 'Issue (or rotate) the SCIM token of your org', description: 'Shown once. The former token stops working at once.' })
  @ApiOkResponse({ type: ScimTokenDto })
  async rotate(@CurrentApiKey() caller: ApiKeyPrincipal, @Req() req: FastifyRequest): Promise<ScimTokenDto> {
    const { token } = await this.rotateToken.execute({ orgId: caller.orgId });
    return { token, scim_base_url: `${req.protocol}://${req.host}/scim/v2` };
  }

  @Patch('settings')
  @ApiOperation({ summary: "Your org's directory settings" })
  @ApiOkResponse({ type: DirectorySettingsDto })
  async settings(@CurrentApiKey() caller: ApiKeyPrincipal, @Body() body: UpdateDirectorySettingsDto): Promise<DirectorySettingsDto> {
    return toSettingsResponse(await this.updateSettings.execute({ orgId: caller.orgId, unknownUsers: body.unknown_users }));
  }

  @Put('groups/:id/permissions')
  @ApiOperation({
    summary: 'Map a directory group to topic permissions',
    description: "Members' tokens get the union of their groups' permissions. Every member's current tokens are revoked.",
  })
  @ApiOkResponse({ type: DirectoryGroupDto })
  async permissions(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('id') id: string, @Body() body: GroupPermissionsDto): Promise<DirectoryGroupDto> {
    return toGroupResponse(await this.setPermissions.execute({ orgId: caller.orgId, groupId: id, publish: body.publish, subscribe: body.subscribe }));
  }
}
