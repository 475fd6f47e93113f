import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString, MaxLength } from 'class-validator';

import type { SessionPrincipal } from '@signet/api-keys';

import type { Account } from '../account';

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

export const toAccountResponse = (a: Account): AccountDto => ({ account_id: a.id, org_id: a.orgId, username: a.username, role: a.role });


export const toSessionResponse = (s: SessionPrincipal): SessionDto => ({
  account_id: s.accountId,
  org_id: s.orgId,
  username: s.username,
  role: s.role,
  client_id: s.clientId,
  expires_at: new Date(s.expiresAt).toISOString(),
});
