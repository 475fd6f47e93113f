import { ApiProperty } from '@nestjs/swagger';
import { IsArray, IsIn, IsString } from 'class-validator';

import type { DirectoryGroup, DirectorySettings, UnknownUserPolicy } from '../directory.repository';

/* Wire shapes of the directory admin API (/v1/directory); snake_case. The SCIM API speaks RFC 7643 instead. */

export const UNKNOWN_USER_POLICIES: readonly UnknownUserPolicy[] = ['refuse', 'allow'];

export class ScimTokenDto {
  @ApiProperty({ description: 'The SCIM bearer token of your org. Shown once; rotating it again replaces it.', example: 'scim_…' })
  token!: string;

  @ApiProperty({ description: 'Give this to the IdP as the SCIM base URL.', example: 'https://signet.example.com/scim/v2' })
  scim_base_url!: string;
}

export class DirectorySettingsDto {
  @ApiProperty({ enum: UNKNOWN_USER_POLICIES, description: 'POST /v1/tokens for a user the directory does not know: refused (default) or issued as without a directory.' })
  unknown_users!: UnknownUserPolicy;

  @ApiProperty({ description: 'Whether a SCIM token has been issued.' })
  scim_enabled!: boolean;
}

export class UpdateDirectorySettingsDto {
  @ApiProperty({ enum: UNKNOWN_USER_POLICIES })
  @IsIn(UNKNOWN_USER_POLICIES, { message: `unknown_users must be one of: ${UNKNOWN_USER_POLICIES.join(', ')}` })
  unknown_users!: UnknownUserPolicy;
}

export class GroupPermissionsDto {
  @ApiProperty({ type: [String], description: 'Topic filters members may publish to; placeholders as in token permissions.', example: ['devices/{user_id}/#'] })
  @IsArray()
  @IsString({ each: true })
  publish!: string[];

  @ApiProperty({ type: [String], description: 'Topic filters members may subscribe to.', example: ['fleet/+/status'] })
  @IsArray()
  @IsString({ each: true })
  subscribe!: string[];
}

export class DirectoryGroupDto {
  @ApiProperty() id!: string;
  @ApiProperty() display_name!: string;
  @ApiProperty({ type: GroupPermissionsDto }) permissions!: GroupPermissionsDto;
  @ApiProperty() member_count!: number;
}

export const toSettingsResponse = (s: DirectorySettings): DirectorySettingsDto => ({ unknown_users: s.unknownUsers, scim_enabled: s.hasScimToken });

export const toGroupResponse = (g: DirectoryGroup): DirectoryGroupDto => ({
  id: g.id,
  display_name: g.displayName,
  permissions: { publish: g.permissions.publish, subscribe: g.permissions.subscribe },
  member_count: g.members.length,
});
