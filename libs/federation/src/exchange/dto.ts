import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, MaxLength, Min } from 'class-validator';

import { MAX_CLIENT_ID_LENGTH } from '@signet/tokens';

import { MAX_IDP_TOKEN_LENGTH } from '../verification/jwt';

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
