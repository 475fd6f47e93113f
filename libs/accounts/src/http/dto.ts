import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

import type { SessionPrincipal } from '@signet/api-keys';

import type { Account } from '../account';
import type { SsoConnection } from '../sso/sso.repository';

/** A new account's username and first password (sign-up and adding a person). */
class NewAccountFieldsDto {
  @ApiProperty({ example: 'alice' })
  @IsString()
  @MaxLength(64)
  username!: string;

  @ApiProperty({ description: 'At least 12 characters' })
  @IsString()
  @MaxLength(256)
  password!: string;
}

export class SignUpDto extends NewAccountFieldsDto {
  @ApiProperty({ description: 'The one-time code printed beside the bootstrap API key at the first start' })
  @IsString()
  @MaxLength(128)
  signup_code!: string;
}

export class CreateAccountDto extends NewAccountFieldsDto {
  @ApiProperty({ enum: ['owner', 'admin', 'viewer'] })
  @IsIn(['owner', 'admin', 'viewer'])
  role!: string;
}

export class AccountDto {
  @ApiProperty() account_id!: string;
  @ApiProperty() org_id!: string;
  @ApiProperty() username!: string;
  @ApiProperty({ enum: ['owner', 'admin', 'viewer'] }) role!: string;
}

export class AccountListDto {
  @ApiProperty({ type: [AccountDto] }) accounts!: AccountDto[];
}

export class SessionDto extends AccountDto {
  @ApiProperty() client_id!: string;
  @ApiProperty({ description: 'When the access token expires (the CLI refreshes it)' }) expires_at!: string;
}

export class SignedOutDto {
  @ApiProperty({ description: 'How many sign-ins (grants) ended, this one included' }) revoked_grants!: number;
}

export const toAccountResponse = (a: Account): AccountDto => ({ account_id: a.id, org_id: a.orgId, username: a.username, role: a.role });


export const toSessionResponse = (s: SessionPrincipal): SessionDto => ({
  account_id: s.accountId,
  org_id: s.orgId,
  username: s.username,
  role: s.role,
  client_id: s.clientId,
  expires_at: new Date(s.expiresAt).toISOString(),
});

export class TotpEnrolmentDto {
  @ApiProperty({ description: 'The base32 secret, shown once (enter it in an authenticator app, or use the URI)' }) secret!: string;
  @ApiProperty({ example: 'otpauth://totp/Signet:alice?secret=…&issuer=Signet' }) otpauth_uri!: string;
  @ApiProperty({ enum: ['pending'] }) status!: string;
}

export class TotpCodeDto {
  @ApiProperty({ example: '123456', description: 'A current code of the authenticator app' })
  @IsString()
  @MaxLength(16)
  code!: string;
}

export class TotpConfirmedDto {
  @ApiProperty({ enum: ['on'] }) status!: string;
  @ApiProperty({ type: [String], description: 'Ten single-use recovery codes, shown once' }) recovery_codes!: string[];
}

export class TotpStatusDto {
  @ApiProperty({ enum: ['off', 'pending', 'on'] }) status!: string;
  @ApiProperty() recovery_codes_left!: number;
}

/** One of: a current code, a recovery code, the password. */
export class DisableTotpDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(16) code?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) recovery_code?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(256) password?: string;
}

export class SsoSettingsDto {
  @ApiProperty({ example: 'Acme Google', description: 'Shown on the sign-in page as "Sign in with <name>"' })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  name!: string;

  @ApiProperty({ example: 'https://accounts.google.com', description: 'The OpenID Provider; <issuer>/.well-known/openid-configuration must answer' })
  @IsString()
  @MaxLength(2048)
  issuer!: string;

  @ApiProperty() @IsString() @MinLength(1) @MaxLength(255) client_id!: string;

  @ApiProperty({ description: 'Write only; sealed with the master key at rest' })
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  client_secret!: string;

  @ApiProperty({ type: [String], example: ['example.com'], description: 'E-mail domains whose people may sign in' })
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(253, { each: true })
  allowed_domains!: string[];

  @ApiProperty({ enum: ['admin', 'viewer'], nullable: true, description: 'Role of an account made at a first sign-in; null: existing accounts only' })
  @IsOptional()
  @IsIn(['admin', 'viewer'])
  default_role!: string | null;

  @ApiPropertyOptional({ default: false, description: 'Link an existing account whose username is the verified e-mail at its first SSO sign-in' })
  @IsOptional()
  @IsBoolean()
  link_by_email?: boolean;
}

export class SsoConnectionDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() issuer!: string;
  @ApiProperty() client_id!: string;
  @ApiProperty({ description: 'Always true: the secret is never answered' }) client_secret_set!: boolean;
  @ApiProperty({ type: [String] }) allowed_domains!: string[];
  @ApiProperty({ enum: ['admin', 'viewer'], nullable: true, type: String }) default_role!: string | null;
  @ApiProperty() link_by_email!: boolean;
  @ApiProperty({ description: 'Register this redirect URI at the provider' }) redirect_uri!: string;
  @ApiProperty() created_at!: string;
  @ApiProperty() updated_at!: string;
}

export const toSsoConnectionResponse = (c: SsoConnection, redirectUri: string): SsoConnectionDto => ({
  id: c.id,
  name: c.name,
  issuer: c.issuer,
  client_id: c.clientId,
  client_secret_set: true,
  allowed_domains: c.allowedDomains,
  default_role: c.defaultRole,
  link_by_email: c.linkByEmail,
  redirect_uri: redirectUri,
  created_at: c.createdAt.toISOString(),
  updated_at: c.updatedAt.toISOString(),
});
