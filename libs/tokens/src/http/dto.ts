import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsArray, IsIn, IsInt, IsObject, IsOptional, IsString, MaxLength, Min, ValidateIf, ValidateNested } from 'class-validator';

import { MAX_ACCESS_TOKEN_LENGTH, WILL_POLICIES, WillPolicy } from '@signet/credentials';
import { MergePatch, PageQueryDto } from '@signet/http';

import { ACL_ACTIONS, AclAction } from '../acl-policy';
import type { IssuedCredentials } from '../token-issuer';
import { MAX_CLIENT_ID_LENGTH, MAX_FILTER_LENGTH, MAX_FILTERS_PER_DIRECTION } from '../token-policy';
import { TOKEN_STATUSES, TokenRecord, TokenStatus } from '../token.repository';

/*
 * Wire shapes of the token API. Field names are snake_case, as on the wire.
 * The DTOs check types only; what a value means (a valid user id, filter,
 * TTL) is checked by the use cases, which answer with specific problem codes.
 * The controllers map these to the use cases' commands and back.
 */

export class PermissionsDto {
  @ApiPropertyOptional({
    type: [String],
    maxItems: MAX_FILTERS_PER_DIRECTION,
    description: 'Topic filters this token may publish to; placeholders {user_id}, {org_id}, {client_id}. Omitted: none.',
    example: ['users/{user_id}/#'],
  })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  publish?: string[];

  @ApiPropertyOptional({
    type: [String],
    maxItems: MAX_FILTERS_PER_DIRECTION,
    description: 'Topic filters this token may subscribe to; same placeholders. Omitted: none.',
    example: ['users/{user_id}/#', 'broadcast/+'],
  })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  subscribe?: string[];
}

export class IssueTokenDto {
  @ApiProperty({ description: "Your user's id; no '/', '+', '#', no leading '$', at most 128 characters", example: 'user_xyz' })
  @IsString()
  user_id!: string;

  @ApiPropertyOptional({ minimum: 1, description: 'Lifetime in seconds; default 3600, capped by the server and org maximum', example: 3600 })
  @IsOptional()
  @IsInt()
  @Min(1)
  ttl_seconds?: number;

  @ApiPropertyOptional({
    type: PermissionsDto,
    description: `Omitted: publish and subscribe on users/{user_id}/#. Filters of at most ${MAX_FILTER_LENGTH} characters.`,
  })
  @IsOptional()
  // IsObject refuses arrays, which ValidateNested alone would accept as an empty list.
  @IsObject()
  @ValidateNested()
  @Type(() => PermissionsDto)
  permissions?: PermissionsDto;

  @ApiPropertyOptional({ maxLength: MAX_CLIENT_ID_LENGTH, description: 'When set, the token only connects with this MQTT client id' })
  @IsOptional()
  @IsString()
  client_id?: string;
}

export class RefreshTokenDto {
  @ApiProperty({ description: 'The rt_ refresh token from the previous issue or refresh (single use)' })
  @IsString()
  @MaxLength(256)
  refresh_token!: string;
}

export class IntrospectTokenDto {
  @ApiProperty({ description: 'A tkn_ token (RFC 7662 §2.1 `token`)' })
  @IsString()
  @MaxLength(MAX_ACCESS_TOKEN_LENGTH * 2)
  token!: string;
}

export class ListTokensQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only tokens of this user' })
  @IsOptional()
  @IsString()
  user_id?: string;

  @ApiPropertyOptional({ enum: TOKEN_STATUSES })
  @IsOptional()
  @IsIn(TOKEN_STATUSES)
  status?: TokenStatus;
}

export class MqttCredentialsDto {
  @ApiProperty({ example: 'user_xyz@org_k7xm4pqr2n5t' })
  username!: string;

  @ApiProperty({ description: 'The tkn_ token: use it as the MQTT password' })
  password!: string;
}

export class TokenCredentialsDto {
  @ApiProperty({ example: 'tok_3f9a1c2b7d4e5f6a7b8c9d0e' })
  token_id!: string;

  @ApiProperty({ type: MqttCredentialsDto })
  mqtt_credentials!: MqttCredentialsDto;

  @ApiProperty({ format: 'date-time' })
  expires_at!: string;

  @ApiProperty({ description: 'rt_ token: exchange once at POST /v1/tokens/refresh for new credentials' })
  refresh_token!: string;

  @ApiProperty({ format: 'date-time' })
  refresh_expires_at!: string;
}

export class TokenPermissionsDto {
  @ApiProperty({ type: [String] })
  publish!: string[];

  @ApiProperty({ type: [String] })
  subscribe!: string[];
}

export class TokenMetadataDto {
  @ApiProperty()
  token_id!: string;

  @ApiProperty()
  user_id!: string;

  @ApiProperty({ type: String, nullable: true })
  client_id!: string | null;

  @ApiProperty({ type: TokenPermissionsDto })
  permissions!: TokenPermissionsDto;

  @ApiProperty({ format: 'date-time' })
  issued_at!: string;

  @ApiProperty({ format: 'date-time' })
  expires_at!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  revoked_at!: string | null;

  @ApiProperty({ enum: TOKEN_STATUSES })
  status!: TokenStatus;
}

export class TokenListDto {
  @ApiProperty({ type: [TokenMetadataDto] })
  tokens!: TokenMetadataDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last page' })
  next_cursor!: string | null;
}

export class RevokedCountDto {
  @ApiProperty({ description: 'How many live tokens were revoked' })
  revoked!: number;
}

/** RFC 7662 §2.2 introspection response; only `active` when the token is not active. */
export class IntrospectionDto {
  @ApiProperty()
  active!: boolean;

  @ApiPropertyOptional({ description: 'User id' })
  sub?: string;

  @ApiPropertyOptional()
  org_id?: string;

  @ApiPropertyOptional({ type: String, nullable: true })
  client_id?: string | null;

  @ApiPropertyOptional({ description: 'Seconds since the epoch' })
  exp?: number;

  @ApiPropertyOptional({ description: 'Seconds since the epoch' })
  iat?: number;

  @ApiPropertyOptional()
  jti?: string;

  @ApiPropertyOptional({ example: 'Bearer' })
  token_type?: string;

  @ApiPropertyOptional({ description: 'The MQTT username this token goes with' })
  username?: string;

  @ApiPropertyOptional({ type: TokenPermissionsDto })
  permissions?: TokenPermissionsDto;
}

export class JwksDto {
  @ApiProperty({ type: 'array', items: { type: 'object' }, description: 'Public JWKs (RFC 7517 §5)' })
  keys!: object[];
}

const WILL_ON_REVOKE =
  "What happens to an MQTT session's will (last will and testament) when its credential is revoked or expires: " +
  "'suppress' (default) drops it, 'publish' sends it at once. Carried in tokens issued, refreshed or exchanged after the change, " +
  'and in API key verdicts fetched after it (within SIGNET_KEY_CACHE_MS).';

export class OrgSettingsDto {
  @ApiProperty({ enum: WILL_POLICIES, description: WILL_ON_REVOKE, example: 'suppress' })
  will_on_revoke!: WillPolicy;
}

/** PATCH body: the fields given change; unknown fields and values are refused (400 validation_failed). */
@MergePatch()
export class UpdateOrgSettingsDto {
  @ApiPropertyOptional({ enum: WILL_POLICIES, description: WILL_ON_REVOKE, example: 'publish' })
  // Omitted: unchanged; null is not a value (IsOptional would let it through).
  @ValidateIf((_o, v) => v !== undefined)
  @IsIn(WILL_POLICIES, { message: `will_on_revoke must be one of: ${WILL_POLICIES.join(', ')}` })
  will_on_revoke?: WillPolicy;
}

/** The wire shape of issued credentials (POST /v1/tokens and /v1/tokens/refresh). */
export const toCredentialsResponse = (c: IssuedCredentials): TokenCredentialsDto => ({
  token_id: c.tokenId,
  mqtt_credentials: { username: c.username, password: c.password },
  expires_at: c.expiresAt.toISOString(),
  refresh_token: c.refreshToken,
  refresh_expires_at: c.refreshExpiresAt.toISOString(),
});

export function toTokenMetadata(token: TokenRecord, status: TokenStatus): TokenMetadataDto {
  return {
    token_id: token.id,
    user_id: token.userId,
    client_id: token.clientId,
    permissions: { publish: token.permissions.publish, subscribe: token.permissions.subscribe },
    issued_at: token.issuedAt.toISOString(),
    expires_at: token.expiresAt.toISOString(),
    revoked_at: token.revokedAt?.toISOString() ?? null,
    status,
  };
}

export class AclCheckDto {
  @ApiPropertyOptional({ description: "A user id: allowed when one of the user's live tokens allows it (exactly one of user_id, token)" })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  user_id?: string;

  @ApiPropertyOptional({ description: 'A tkn_ token (exactly one of user_id, token)' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_ACCESS_TOKEN_LENGTH * 2)
  token?: string;

  @ApiPropertyOptional({ description: 'The MQTT client id of the connection, for rules naming {client_id}' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_CLIENT_ID_LENGTH)
  client_id?: string;

  @ApiProperty({ enum: ACL_ACTIONS })
  @IsIn(ACL_ACTIONS)
  action!: AclAction;

  @ApiProperty({ description: 'A topic name (publish) or filter (subscribe)', example: 'devices/device-7/temp' })
  @IsString()
  @MaxLength(MAX_FILTER_LENGTH)
  topic!: string;
}

export class AclVerdictDto {
  @ApiProperty() allowed!: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'The permission template that allows it, as granted', example: 'devices/{user_id}/#' })
  rule!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The token whose rule decided' }) token_id!: string | null;
  @ApiProperty({ enum: ['allowed', 'no_rule_matches', 'no_live_token', 'token_inactive'] }) reason!: string;
}
