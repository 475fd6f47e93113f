import { Body, Controller, Delete, Get, HttpCode, Post, Put, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { ApiKeyGuard, ApiKeyPrincipal, CurrentApiKey, RequireScopes } from '@signet/api-keys';

import { DeleteWebhookUseCase } from '../usecases/delete/delete.usecase';
import { GetChainUseCase } from '../usecases/get-chain/get-chain.usecase';
import { GetWebhookUseCase } from '../usecases/get/get.usecase';
import { RegisterWebhookUseCase } from '../usecases/register/register.usecase';
import { RevokeWebhookUserUseCase } from '../usecases/revoke-user/revoke-user.usecase';
import { RotateWebhookSecretUseCase } from '../usecases/rotate-secret/rotate-secret.usecase';
import { SetChainUseCase } from '../usecases/set-chain/set-chain.usecase';
import {
  ChainDto,
  RegisterWebhookDto,
  RevokeWebhookUserDto,
  RotateSecretDto,
  SetChainDto,
  toChainResponse,
  toWebhookResponse,
  WebhookDto,
  WebhookRevocationDto,
} from './dto';

/** Scopes a restricted (`rk_`) key needs; `sk_` keys have them all. */
export const AUTH_WEBHOOK_SCOPES = { read: 'org:read', write: 'org:write' } as const;

@ApiTags('auth-webhooks')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('v1/auth-webhook')
export class AuthWebhookController {
  constructor(
    private readonly register: RegisterWebhookUseCase,
    private readonly rotate: RotateWebhookSecretUseCase,
    private readonly remove: DeleteWebhookUseCase,
    private readonly read: GetWebhookUseCase,
    private readonly revokeUser: RevokeWebhookUserUseCase,
  ) {}

  @Put()
  @RequireScopes(AUTH_WEBHOOK_SCOPES.write)
  @ApiOperation({ summary: "Register or replace your org's auth webhook", description: 'The secret is answered once, at the first registration.' })
  @ApiOkResponse({ type: WebhookDto })
  async put(@CurrentApiKey() caller: ApiKeyPrincipal, @Body() body: RegisterWebhookDto): Promise<WebhookDto> {
    const { webhook, secret } = await this.register.execute({ orgId: caller.orgId, url: body.url, sendPassword: body.send_password, failMode: body.fail_mode });
    return toWebhookResponse(webhook, secret);
  }

  @Get()
  @RequireScopes(AUTH_WEBHOOK_SCOPES.read)
  @ApiOkResponse({ type: WebhookDto })
  async get(@CurrentApiKey() caller: ApiKeyPrincipal): Promise<WebhookDto> {
    return toWebhookResponse(await this.read.execute({ orgId: caller.orgId }));
  }

  @Post('rotate-secret')
  @HttpCode(200)
  @RequireScopes(AUTH_WEBHOOK_SCOPES.write)
  @ApiOperation({ summary: 'A new signing secret', description: 'Calls carry both signatures until previous_valid_seconds have passed.' })
  @ApiOkResponse({ type: WebhookDto })
  async rotateSecret(@CurrentApiKey() caller: ApiKeyPrincipal, @Body() body: RotateSecretDto): Promise<WebhookDto> {
    const { webhook, secret } = await this.rotate.execute({ orgId: caller.orgId, previousValidSeconds: body.previous_valid_seconds ?? 86400 });
    return toWebhookResponse(webhook, secret);
  }

  @Post('revocations')
  @HttpCode(200)
  @RequireScopes(AUTH_WEBHOOK_SCOPES.write)
  @ApiOperation({
    summary: "Close a webhook-authenticated user's sessions",
    description: 'Every edge closes them (MQTT 5: DISCONNECT 0x98) and drops their cached verdicts; the next CONNECT asks the webhook again.',
  })
  @ApiOkResponse({ type: WebhookRevocationDto })
  async revoke(@CurrentApiKey() caller: ApiKeyPrincipal, @Body() body: RevokeWebhookUserDto): Promise<WebhookRevocationDto> {
    const { credentialId } = await this.revokeUser.execute({ orgId: caller.orgId, userId: body.user_id });
    return { credential_id: credentialId };
  }

  @Delete()
  @HttpCode(204)
  @RequireScopes(AUTH_WEBHOOK_SCOPES.write)
  async delete(@CurrentApiKey() caller: ApiKeyPrincipal): Promise<void> {
    await this.remove.execute({ orgId: caller.orgId });
  }
}

@ApiTags('auth-webhooks')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('v1/authenticator-chain')
export class AuthenticatorChainController {
  constructor(
    private readonly getChain: GetChainUseCase,
    private readonly setChain: SetChainUseCase,
  ) {}

  @Get()
  @RequireScopes(AUTH_WEBHOOK_SCOPES.read)
  @ApiOkResponse({ type: ChainDto })
  async get(@CurrentApiKey() caller: ApiKeyPrincipal): Promise<ChainDto> {
    return toChainResponse(await this.getChain.execute({ orgId: caller.orgId }));
  }

  @Put()
  @RequireScopes(AUTH_WEBHOOK_SCOPES.write)
  @ApiOperation({ summary: "Set your org's authenticator chain", description: 'Every edge picks it up at once (announced on the revocation bus; within 30 s at worst).' })
  @ApiOkResponse({ type: ChainDto })
  async put(@CurrentApiKey() caller: ApiKeyPrincipal, @Body() body: SetChainDto): Promise<ChainDto> {
    return toChainResponse(await this.setChain.execute({ orgId: caller.orgId, steps: body.steps }));
  }
}
