import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { IsArray, IsBoolean, IsIn, IsNumber, IsOptional, IsString, MaxLength } from 'class-validator';

import { MergePatch } from '@signet/http';
import { ListTokensQueryDto } from '@signet/tokens';

import type { DirectoryGroup, DirectorySettings, UnknownUserPolicy } from '../directory.repository';
import { LDAP_FLAVORS, type LdapFlavor } from '../ldap/ldap-reader';
import type { LdapSyncKind, LdapSyncStatus } from '../ldap/ldap-snapshot';
import type { LdapConnection } from '../ldap/ldap.repository';
import type { LdapSyncProgress } from '../usecases/sync-ldap/sync-ldap.usecase';

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

@MergePatch()
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

/** `limit` and `cursor`, validated as on every keyset list (the token list's fields). */
export class ListGroupsQueryDto extends PickType(ListTokensQueryDto, ['limit', 'cursor'] as const) {}

export class DirectoryGroupListDto {
  @ApiProperty({ type: [DirectoryGroupDto] }) groups!: DirectoryGroupDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last page' })
  next_cursor!: string | null;
}

export const toSettingsResponse = (s: DirectorySettings): DirectorySettingsDto => ({ unknown_users: s.unknownUsers, scim_enabled: s.hasScimToken });

export const toGroupResponse = (g: DirectoryGroup): DirectoryGroupDto => ({
  id: g.id,
  display_name: g.displayName,
  permissions: { publish: g.permissions.publish, subscribe: g.permissions.subscribe },
  member_count: g.members.length,
});

export class LdapConnectionDto {
  @ApiPropertyOptional({
    enum: LDAP_FLAVORS,
    default: 'ldap',
    description: 'active_directory: objectGUID ids, userAccountControl disabled flag, uSNChanged increments; ldap: entryUUID, disabled_filter, modifyTimestamp.',
  })
  @IsOptional()
  @IsIn(LDAP_FLAVORS, { message: `flavor must be one of: ${LDAP_FLAVORS.join(', ')}` })
  flavor?: LdapFlavor;
  @ApiProperty({ example: 'ldaps://ldap.example.com:636' }) @IsString() @MaxLength(512) url!: string;
  @ApiPropertyOptional({ description: 'Upgrade an ldap:// connection with StartTLS before the bind.', default: false })
  @IsOptional()
  @IsBoolean()
  starttls?: boolean;
  @ApiProperty({ example: 'cn=signet-sync,dc=example,dc=com' }) @IsString() @MaxLength(512) bind_dn!: string;
  @ApiProperty({ description: 'Write-only; sealed with the master key. Empty is refused (it would be an anonymous bind).' })
  @IsString()
  @MaxLength(1024)
  bind_password!: string;
  @ApiProperty({ example: 'dc=example,dc=com' }) @IsString() @MaxLength(512) base_dn!: string;
  @ApiProperty({ example: '(objectClass=inetOrgPerson)' }) @IsString() @MaxLength(1024) user_filter!: string;
  @ApiProperty({ example: '(objectClass=groupOfNames)' }) @IsString() @MaxLength(1024) group_filter!: string;
  @ApiPropertyOptional({ description: 'Users of user_filter that also match this are inactive.', example: '(employeeType=disabled)' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  disabled_filter?: string;
  @ApiPropertyOptional({ description: 'The attribute that becomes the userName (the user_id of tokens); by default uid, or sAMAccountName for active_directory.' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  user_name_attribute?: string;
  @ApiPropertyOptional({ description: "PEM of the CA to pin for ldaps:// or StartTLS (only it is trusted); absent: the system's CAs." })
  @IsOptional()
  @IsString()
  @MaxLength(16384)
  tls_ca?: string;
  @ApiPropertyOptional({ description: 'A sync that would disable or remove more than this share of active users changes nothing.', default: 0.2 })
  @IsOptional()
  @IsNumber()
  max_disable_share?: number;
}

export const toLdapResponse = (c: LdapConnection) => ({
  flavor: c.flavor,
  url: c.url,
  starttls: c.starttls,
  bind_dn: c.bindDn,
  base_dn: c.baseDn,
  user_filter: c.userFilter,
  group_filter: c.groupFilter,
  disabled_filter: c.disabledFilter,
  user_name_attribute: c.userNameAttribute,
  max_disable_share: c.maxDisableShare,
  has_tls_ca: c.tlsCa !== null,
  last_sync: c.lastSync,
  last_full_sync_at: c.lastFullSyncAt?.toISOString() ?? null,
});

export const LDAP_SYNC_KINDS: readonly LdapSyncKind[] = ['full', 'incremental'];

export class SyncLdapQueryDto {
  @ApiPropertyOptional({ enum: LDAP_SYNC_KINDS, default: 'full', description: 'incremental: only what changed since the last sync (full when it cannot be).' })
  @IsOptional()
  @IsIn(LDAP_SYNC_KINDS, { message: `kind must be one of: ${LDAP_SYNC_KINDS.join(', ')}` })
  kind?: LdapSyncKind;
}

/** GET /v1/directory/ldap/status. */
export const toLdapStatusResponse = (c: LdapConnection, running: LdapSyncProgress | null) => ({
  running: running !== null,
  progress: running && { kind: running.kind, started_at: running.startedAt, phase: running.phase, entries: running.entries },
  last_sync: c.lastSync satisfies LdapSyncStatus | null,
  last_full_sync_at: c.lastFullSyncAt?.toISOString() ?? null,
});
