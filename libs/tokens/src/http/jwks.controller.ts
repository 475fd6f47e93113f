import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { SigningKeysService } from '../signing-keys/signing-keys.service';
import { JwksDto } from './dto';

@ApiTags('keys')
@Controller('.well-known')
export class JwksController {
  constructor(private readonly signingKeys: SigningKeysService) {}

  @Get('jwks.json')
  // Short: verifiers must see a rotation soon (they also re-fetch on an unknown kid).
  @Header('Cache-Control', 'public, max-age=60')
  @ApiOperation({ summary: 'Public keys that verify tkn_ tokens (RFC 7517 JWK Set)' })
  @ApiOkResponse({ type: JwksDto })
  async jwks(): Promise<JwksDto> {
    return { keys: await this.signingKeys.publicJwks() };
  }
}
