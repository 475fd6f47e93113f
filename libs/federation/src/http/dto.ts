import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsArray, IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsString, MaxLength, Min } from 'class-validator';

import { MergePatch } from '@signet/http';
import type { IdpProviderKind } from '@signet/persistence';
import { MAX_CLIENT_ID_LENGTH } from '@signet/tokens';

import type { StoredIdpProvider } from '../idp-providers.repository';
import { IDP_PROVIDER_KINDS } from '../providers/settings';
import { MAX_IDP_TOKEN_LENGTH } from '../verification/jwt';

/** Topic filters per direction, as in the OpenAPI document. */
const PERMISSIONS_SCHEMA = { publish: { type: 'array', items: { type: 'string' } }, subscribe: { type: 'array', items: { type: 'string' } } } as const;
const PERMISSIONS_EXAMPLE = { publish: ['users/{user_id}/#'], subscribe: ['users/{user_id}/#', 'broadcast/#'] };

/*
 * Wire shapes of /v1/idp-providers and POST /v1/federation/exchange. The
 * DTOs check types only; which fields a kind needs and what values are
 * acceptable is checked by validateProvider, which answers 400
 * `invalid_provider_settings` naming the field.
 */
export class IdpProviderFieldsDto {
  @ApiPropertyOptional({ description: 'Display name; default: the kind', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'supabase: https://<ref>.supabase.co', example: 'https://abcdefghijklmnop.supabase.co' })
  @IsOptional()
  @IsString()
  project_url?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'supabase: the legacy JWT secret (HS256). Write-only: stored encrypted, never returned.' })
  @IsOptional()
  @IsString()
  jwt_secret?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'firebase: the project id', example: 'my-app-12345' })
  @IsOptional()
  @IsString()
  project_id?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'auth0: the tenant domain (or custom domain)', example: 'example.eu.auth0.com' })
  @IsOptional()
  @IsString()
  domain?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'clerk: Frontend API URL; oidc: issuer (discovery); jwt: expected iss', example: 'https://clerk.example.com' })
  @IsOptional()
  @IsString()
  issuer?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Expected aud (auth0, jwt: required; supabase: default "authenticated"; clerk, oidc: optional)' })
  @IsOptional()
  @IsString()
  audience?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'jwt: where the issuer publishes its keys' })
  @IsOptional()
  @IsString()
  jwks_uri?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'jwt: PEM public key (BEGIN PUBLIC KEY)' })
  @IsOptional()
  @IsString()
  public_key?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'jwt: HMAC secret (at least 32 characters). Write-only: stored encrypted, never returned.' })
  @IsOptional()
  @IsString()
  shared_secret?: string | null;

  @ApiPropertyOptional({ type: [String], nullable: true, description: 'jwt (required), oidc (optional): accepted algorithms', example: ['RS256'] })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  algorithms?: string[] | null;

  @ApiPropertyOptional({ type: [String], nullable: true, description: 'clerk: accepted azp values (your app origins)', example: ['https://app.example.com'] })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  authorized_parties?: string[] | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Dotted path of the claim holding the user id; default sub', example: 'sub' })
  @IsOptional()
  @IsString()
  user_id_claim?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Dotted path of the role claim (a string or a list)', example: 'app_metadata.roles' })
  @IsOptional()
  @IsString()
  role_claim?: string | null;

  @ApiPropertyOptional({
    type: 'object',
    nullable: true,
    properties: PERMISSIONS_SCHEMA,
    description: 'What every user gets; placeholders {user_id}, {org_id}, {client_id}. Omitted: users/{user_id}/# both ways.',
    example: PERMISSIONS_EXAMPLE,
  })
  @IsOptional()
  @IsObject()
  permissions?: { publish?: string[]; subscribe?: string[] } | null;

  @ApiPropertyOptional({
    type: 'object',
    nullable: true,
    additionalProperties: { type: 'object', properties: PERMISSIONS_SCHEMA },
    description: 'What each role adds: { "<role>": { "publish": [...], "subscribe": [...] } }. Unmapped roles add nothing.',
    example: { admin: { publish: ['devices/#'], subscribe: ['devices/#'] } },
  })
  @IsOptional()
  @IsObject()
  role_permissions?: Record<string, unknown> | null;
}

export class CreateIdpProviderDto extends IdpProviderFieldsDto {
  @ApiProperty({ enum: IDP_PROVIDER_KINDS })
  @IsIn(IDP_PROVIDER_KINDS)
  kind!: IdpProviderKind;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

@MergePatch()
export class UpdateIdpProviderDto extends IdpProviderFieldsDto {
  @ApiPropertyOptional({ description: 'false: every exchange with this provider is refused' })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class IdpProviderDto {
  @ApiProperty({ example: 'idp_3f9a1c2b7d4e5f6a7b8c9d0e' })
  id!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty({ enum: IDP_PROVIDER_KINDS })
  kind!: IdpProviderKind;

  @ApiProperty()
  enabled!: boolean;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The settings as given, without secrets' })
  settings!: Record<string, unknown>;

  @ApiProperty({ description: 'Whether a shared secret (jwt_secret / shared_secret) is stored; it is never returned' })
  has_secret!: boolean;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;

  @ApiProperty({ format: 'date-time' })
  updated_at!: string;
}

export class IdpProviderListDto {
  @ApiProperty({ type: [IdpProviderDto] })
  providers!: IdpProviderDto[];
}

export function toProviderDto(provider: StoredIdpProvider): IdpProviderDto {
  return {
    id: provider.id,
    name: provider.name,
    kind: provider.kind,
    enabled: provider.enabled,
    settings: { ...provider.settings },
    has_secret: provider.secretCiphertext !== null,
    created_at: provider.createdAt.toISOString(),
    updated_at: provider.updatedAt.toISOString(),
  };
}

export class ExchangeDto {
  @ApiProperty({ description: 'The identity provider (from POST /v1/idp-providers)', example: 'idp_3f9a1c2b7d4e5f6a7b8c9d0e' })
  @IsString()
  @MaxLength(64)
  provider_id!: string;

  @ApiPropertyOptional({
    description:
      'The IdP token, when the caller authenticates with its own API key (Authorization: Bearer sk_…). Without it, the Authorization header carries the IdP token.',
  })
  @IsOptional()
  @IsString()
  // The precise limit is checked by the verifier (malformed_token); this keeps absurd bodies out of validation.
  @MaxLength(MAX_IDP_TOKEN_LENGTH * 2)
  id_token?: string;

  @ApiPropertyOptional({ minimum: 1, description: 'Lifetime in seconds; default and caps as for POST /v1/tokens' })
  @IsOptional()
  @IsInt()
  @Min(1)
  ttl_seconds?: number;

  @ApiPropertyOptional({ maxLength: MAX_CLIENT_ID_LENGTH, description: 'When set, the token only connects with this MQTT client id' })
  @IsOptional()
  @IsString()
  client_id?: string;
}
