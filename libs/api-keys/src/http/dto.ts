import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsArray, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

import { API_KEY_SCOPES } from '@signet/credentials';

import { MAX_KEYS_PAGE } from '../usecases/list/list-keys.usecase';

/*
 * Wire shapes of the key API (snake_case as on the wire). The DTOs check
 * types; what a value means (a known scope, a CIDR, a date in the future)
 * is checked by the use cases, which answer with specific problem codes.
 */

export class CreateKeyDto {
  @ApiProperty({ description: "Names the service: its MQTT username is '<name>@<org_id>'", example: 'billing-backend' })
  @IsString()
  @MaxLength(128)
  name!: string;

  @ApiProperty({ enum: ['secret', 'restricted'], description: 'secret → sk_ (full org access); restricted → rk_ (only its scopes)' })
  @IsIn(['secret', 'restricted'])
  type!: 'secret' | 'restricted';

  @ApiPropertyOptional({
    type: [String],
    description: `restricted keys only: ${API_KEY_SCOPES.join(', ')}, mqtt:publish:<filter>, mqtt:subscribe:<filter>`,
    example: ['tokens:write', 'mqtt:publish:events/#'],
  })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  scopes?: string[];

  @ApiPropertyOptional({ type: [String], description: 'IPv4/IPv6 addresses or CIDR blocks; omitted = anywhere', example: ['10.0.0.0/8', '2001:db8::/32'] })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  ip_allowlist?: string[];

  @ApiPropertyOptional({ format: 'date-time', description: 'When the key stops working; omitted = never' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  expires_at?: string;
}

export class RotateKeyDto {
  @ApiPropertyOptional({ minimum: 0, maximum: 604800, default: 3600, description: 'How long the old key keeps working' })
  @IsOptional()
  @IsInt()
  @Min(0)
  grace_seconds?: number;
}

export class ListKeysQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_KEYS_PAGE, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_KEYS_PAGE)
  limit?: number;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}

export class UsageQueryDto {
  @ApiPropertyOptional({ format: 'date-time', description: 'Default: 24 hours before `to`' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Default: now' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  to?: string;

  @ApiPropertyOptional({ enum: ['hour', 'day'], default: 'hour' })
  @IsOptional()
  @IsIn(['hour', 'day'])
  interval?: 'hour' | 'day';
}

export const KEY_STATUSES = ['active', 'expired', 'revoked'] as const;

export class KeyDto {
  @ApiProperty({ example: '3v0c8l2xq1ab' })
  id!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty({ enum: ['secret', 'restricted'] })
  type!: string;

  @ApiProperty({ description: 'The key with its secret masked', example: 'sk_3v0c8l2xq1ab_****' })
  masked_key!: string;

  @ApiProperty({ type: [String] })
  scopes!: string[];

  @ApiProperty({ type: [String] })
  ip_allowlist!: string[];

  @ApiProperty({ enum: KEY_STATUSES })
  status!: (typeof KEY_STATUSES)[number];

  @ApiProperty({ example: 'billing-backend@org_k7xm4pqr2n5t' })
  mqtt_username!: string;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expires_at!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  last_used_at!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  revoked_at!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The key this one replaced' })
  rotated_from!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The key that replaced this one' })
  replaced_by!: string | null;
}

export class CreatedKeyDto extends KeyDto {
  @ApiProperty({ description: 'The key itself: shown this once, never again' })
  key!: string;
}

export class RotatedKeyDto extends CreatedKeyDto {
  @ApiProperty({ type: KeyDto, description: 'The old key, working until its expires_at (the end of the grace period)' })
  previous!: KeyDto;
}

export class KeyListDto {
  @ApiProperty({ type: [KeyDto] })
  keys!: KeyDto[];

  @ApiProperty({ type: String, nullable: true })
  next_cursor!: string | null;
}

export class UsageBucketDto {
  @ApiProperty({ format: 'date-time' })
  start!: string;
  @ApiProperty()
  api_calls!: number;
  @ApiProperty()
  mqtt_connects!: number;
  @ApiProperty()
  messages_published!: number;
  @ApiProperty({ description: 'Payload bytes published' })
  bytes_published!: number;
  @ApiProperty({ description: 'Refusals: address outside the allowlist, missing scope, PUBLISH/SUBSCRIBE outside its grants' })
  denials!: number;
}

export class UsageDto {
  @ApiProperty()
  key_id!: string;
  @ApiProperty({ enum: ['hour', 'day'] })
  interval!: string;
  @ApiProperty({ format: 'date-time' })
  from!: string;
  @ApiProperty({ format: 'date-time' })
  to!: string;
  @ApiProperty({ type: [UsageBucketDto] })
  buckets!: UsageBucketDto[];
  @ApiProperty({ type: UsageBucketDto, description: 'Sums over the range' })
  totals!: Omit<UsageBucketDto, 'start'>;
}
