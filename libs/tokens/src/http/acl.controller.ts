import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { ApiKeyGuard, ApiKeyPrincipal, CurrentApiKey, ForEveryRole, RequireScopes } from '@signet/api-keys';

import { CheckAclUseCase } from '../usecases/check-acl/check-acl.usecase';
import { AclCheckDto, AclVerdictDto } from './dto';
import { TOKEN_SCOPES } from './tokens.controller';

@ApiTags('tokens')
@Controller('v1/acl')
export class AclController {
  constructor(private readonly checkAcl: CheckAclUseCase) {}

  @Post('check')
  @HttpCode(200)
  @UseGuards(ApiKeyGuard)
  @RequireScopes(TOKEN_SCOPES.read)
  // A POST that only reads: viewers may ask too.
  @ForEveryRole()
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Is a topic allowed for a user or a token, and by which rule?',
    description: "Read-only: the edge's matcher over the token's permissions (a user: any of their live tokens, newest first).",
  })
  @ApiOkResponse({ type: AclVerdictDto })
  async check(@CurrentApiKey() caller: ApiKeyPrincipal, @Body() body: AclCheckDto): Promise<AclVerdictDto> {
    const verdict = await this.checkAcl.execute({
      orgId: caller.orgId,
      userId: body.user_id,
      token: body.token,
      clientId: body.client_id,
      action: body.action,
      topic: body.topic,
    });
    return { allowed: verdict.allowed, rule: verdict.rule, token_id: verdict.tokenId, reason: verdict.reason };
  }
}
