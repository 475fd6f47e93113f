import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, ValidateIf } from 'class-validator';

import type { StoredWebhook } from '../auth-webhook.repository';
import { CHAIN_STEP_NAMES } from '../chain-policy';

/* Wire shapes (snake_case). Types only here; meanings are checked by the use cases. */

export class RegisterWebhookDto {
  @ApiProperty({ description: 'HTTPS endpoint called on each CONNECT the chain hands to the webhook step', example: 'https://auth.example.com/mqtt' })
  @IsString()
  @MaxLength(2048)
  url!: string;

  @ApiPropertyOptional({ description: 'Send the MQTT password in the body (default false)' })
  @IsOptional()
  @IsBoolean()
  send_password?: boolean;

  @ApiPropertyOptional({ enum: ['deny', 'ignore'], description: 'When the webhook gives no answer: deny (CONNACK 0x88, default) or pass to the next step' })
  @IsOptional()
  @IsIn(['deny', 'ignore'])
  fail_mode?: 'deny' | 'ignore';
}

export class RotateSecretDto {
  @ApiPropertyOptional({ minimum: 0, maximum: 604800, description: 'How long the previous secret keeps signing beside the new one (default 86400)' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(604800)
  previous_valid_seconds?: number;
}

export class RevokeWebhookUserDto {
  @ApiProperty({ description: 'The <user> of the MQTT username <user>@<org_id> the webhook allowed', example: 'sensor-1' })
  @IsString()
  user_id!: string;
}

export class WebhookRevocationDto {
  @ApiProperty({ description: 'The credential id edges closed sessions of', example: 'whu:org_k7xm4pqr2n5t:sensor-1' })
  credential_id!: string;
}

export class WebhookDto {
  @ApiProperty() url!: string;
  @ApiProperty() send_password!: boolean;
  @ApiProperty({ enum: ['deny', 'ignore'] }) fail_mode!: 'deny' | 'ignore';
  @ApiPropertyOptional({ nullable: true, type: String, description: 'Until when calls also carry the previous secret\'s signature' })
  previous_secret_valid_until!: string | null;
  @ApiProperty() created_at!: string;
  @ApiProperty() updated_at!: string;
  @ApiPropertyOptional({ description: 'The signing secret (whsec_…): answered only when created or rotated' })
  secret?: string;
}

export class ChainDto {
  @ApiProperty({ type: [String], enum: CHAIN_STEP_NAMES, example: ['token', 'webhook'] })
  steps!: string[];
  @ApiProperty({ description: 'True while the org has not set a chain' })
  is_default!: boolean;
}

export class SetChainDto {
  @ApiProperty({ type: [String], nullable: true, enum: CHAIN_STEP_NAMES, description: 'Steps in order; null: back to the default (token, api_key, client_certificate)' })
  @ValidateIf((_o, v) => v !== null)
  @IsArray()
  @IsString({ each: true })
  steps!: string[] | null;
}

export const toWebhookResponse = (w: StoredWebhook, secret?: string | null): WebhookDto => ({
  url: w.url,
  send_password: w.sendPassword,
  fail_mode: w.failMode,
  previous_secret_valid_until: w.previousSecret !== null && w.previousSecretUntil !== null ? new Date(w.previousSecretUntil).toISOString() : null,
  created_at: w.createdAt.toISOString(),
  updated_at: w.updatedAt.toISOString(),
  ...(secret ? { secret } : {}),
});

export const toChainResponse = (c: { steps: string[]; isDefault: boolean }): ChainDto => ({ steps: c.steps, is_default: c.isDefault });
