import { Body, Controller, Get, HttpCode, Param, Patch, Post, Put, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';

import { ApiKeyGuard, ApiKeyPrincipal, CurrentApiKey, RequireScopes } from '@signet/api-keys';

import { ConfigureLdapUseCase } from '../usecases/configure-ldap/configure-ldap.usecase';
import { LdapStatusUseCase } from '../usecases/ldap-status/ldap-status.usecase';
import { ListGroupsUseCase } from '../usecases/list-groups/list-groups.usecase';
import { RotateScimTokenUseCase } from '../usecases/rotate-scim-token/rotate-scim-token.usecase';
import { SyncLdapUseCase } from '../usecases/sync-ldap/sync-ldap.usecase';
import { SetGroupPermissionsUseCase } from '../usecases/set-group-permissions/set-group-permissions.usecase';
import { UpdateDirectorySettingsUseCase } from '../usecases/update-settings/update-settings.usecase';
import {
  DirectoryGroupDto,
  DirectoryGroupListDto,
  DirectorySettingsDto,
  GroupPermissionsDto,
  LdapConnectionDto,
  ListGroupsQueryDto,
  ScimTokenDto,
  SyncLdapQueryDto,
  toGroupResponse,
  toLdapResponse,
  toLdapStatusResponse,
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
    private readonly configureLdap: ConfigureLdapUseCase,
    private readonly syncLdap: SyncLdapUseCase,
    private readonly listGroups: ListGroupsUseCase,
    private readonly ldapStatus: LdapStatusUseCase,
  ) {}

  @Get('groups')
  @ApiOperation({ summary: "Your org's directory groups, newest first", description: 'With their permissions and member counts; keyset-paginated.' })
  @ApiOkResponse({ type: DirectoryGroupListDto })
  async groups(@CurrentApiKey() caller: ApiKeyPrincipal, @Query() query: ListGroupsQueryDto): Promise<DirectoryGroupListDto> {
    const page = await this.listGroups.execute({ orgId: caller.orgId, limit: query.limit, cursor: query.cursor });
    return { groups: page.groups.map(toGroupResponse), next_cursor: page.nextCursor };
  }

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

  @Put('ldap')
  @ApiOperation({ summary: "Set your org's LDAP connection", description: 'The bind password is write-only, sealed with the master key.' })
  async ldap(@CurrentApiKey() caller: ApiKeyPrincipal, @Body() body: LdapConnectionDto) {
    const flavor = body.flavor ?? 'ldap';
    const saved = await this.configureLdap.execute({
      orgId: caller.orgId,
      flavor,
      url: body.url,
      starttls: body.starttls ?? false,
      bindDn: body.bind_dn,
      bindPassword: body.bind_password,
      baseDn: body.base_dn,
      userFilter: body.user_filter,
      groupFilter: body.group_filter,
      disabledFilter: body.disabled_filter ?? null,
      userNameAttribute: body.user_name_attribute ?? (flavor === 'active_directory' ? 'sAMAccountName' : 'uid'),
      tlsCa: body.tls_ca ?? null,
      maxDisableShare: body.max_disable_share ?? 0.2,
    });
    return toLdapResponse(saved);
  }

  @Post('ldap/sync')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Run an LDAP sync now (full by default)',
    description:
      'status ok, refused (it would disable or remove more than max_disable_share of the active users) or failed; refused and failed change nothing. ' +
      'kind says which ran: an incremental sync that cannot continue from the last one runs a full one and says why in full_because.',
  })
  sync(@CurrentApiKey() caller: ApiKeyPrincipal, @Query() query: SyncLdapQueryDto) {
    return this.syncLdap.execute({ orgId: caller.orgId, kind: query.kind ?? 'full' });
  }

  @Get('ldap/status')
  @ApiOperation({ summary: "Your org's LDAP sync: running now (with progress), the last result and when the last full sync ran" })
  async status(@CurrentApiKey() caller: ApiKeyPrincipal) {
    const { connection, running } = await this.ldapStatus.execute({ orgId: caller.orgId });
    return toLdapStatusResponse(connection, running);
  }
}
