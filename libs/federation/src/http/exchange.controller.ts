import { Body, Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { ApiProblems } from '@signet/http';

import { RequireScopes } from '@signet/api-keys';
import { TOKEN_ERRORS, TOKEN_SCOPES, TokenCredentialsDto, toCredentialsResponse } from '@signet/tokens';

import { EXCHANGE_REFUSALS, FEDERATION_ERRORS } from '../errors';
import { ExchangeCallerGuard, ExchangeHttpRequest } from '../guards/exchange-caller.guard';
import type { ExchangeCommand } from '../usecases/exchange/exchange.command';
import { ExchangeUseCase } from '../usecases/exchange/exchange.usecase';
import { ExchangeDto } from './dto';

const DESCRIPTION =
  'Authorization: Bearer <IdP token> with { provider_id }; or, from a backend, Authorization: Bearer sk_… with { provider_id, id_token }. ' +
  `Refusals are 401 problems with a stable code (${EXCHANGE_REFUSALS.join(', ')}); 503 ${FEDERATION_ERRORS.idpUnavailable} when the IdP ` +
  'cannot be reached and no keys are cached. Without id_token (a device or browser calling), limited per client address: 429 rate_limited with Retry-After.';

@ApiTags('federation')
@Controller('v1/federation')
export class ExchangeController {
  constructor(private readonly exchangeIdpToken: ExchangeUseCase) {}

  @Post('exchange')
  @HttpCode(201)
  @ApiBearerAuth()
  @UseGuards(ExchangeCallerGuard)
  // For the backend form: a restricted key must be able to issue tokens.
  @RequireScopes(TOKEN_SCOPES.write)
  @ApiOperation({ summary: "Exchange an identity provider's token for MQTT credentials", description: DESCRIPTION })
  @ApiCreatedResponse({ type: TokenCredentialsDto })
  @ApiProblems({
    400: [FEDERATION_ERRORS.missingIdToken],
    401: EXCHANGE_REFUSALS,
    429: [TOKEN_ERRORS.rateLimited],
    503: [FEDERATION_ERRORS.idpUnavailable],
  })
  async exchange(@Req() request: ExchangeHttpRequest, @Body() body: ExchangeDto): Promise<TokenCredentialsDto> {
    return toCredentialsResponse(await this.exchangeIdpToken.execute(toCommand(request, body)));
  }
}

function toCommand(request: ExchangeHttpRequest, body: ExchangeDto): ExchangeCommand {
  const common = { providerId: body.provider_id, ttlSeconds: body.ttl_seconds, clientId: body.client_id };
  if (body.id_token !== undefined && request.apiKey) return { ...common, idToken: body.id_token, caller: request.apiKey };
  if (body.id_token === undefined && request.idpToken !== undefined) return { ...common, idToken: request.idpToken };
  // Only reachable when the route lost its guard: refuse rather than run unauthenticated.
  throw new Error('POST /v1/federation/exchange without ExchangeCallerGuard');
}
