import { Body, Controller, Delete, Get, HttpCode, Ip, Param, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';

import { ApiKeyGuard, ApiKeyPrincipal, CurrentApiKey, RequireScopes } from '@signet/api-keys';

import {
  IntrospectionDto,
  IntrospectTokenDto,
  IssueTokenDto,
  ListTokensQueryDto,
  RefreshTokenDto,
  RevokedCountDto,
  TokenCredentialsDto,
  TokenListDto,
} from './dto';
import { PublicRateLimiter } from '../rate-limit/public-rate-limiter';
import { IssueTokenUseCase } from './issue-token.usecase';
import { RefreshTokenUseCase } from './refresh-token.usecase';
import { RevokeTokensUseCase } from './revoke-tokens.usecase';
import { toCredentialsResponse } from './token-issuer';
import { TokenQueriesService } from './token-queries.service';

/** Scopes a restricted (`rk_`) key needs; `sk_` keys have them all. */
export const TOKEN_SCOPES = { read: 'tokens:read', write: 'tokens:write', revoke: 'tokens:revoke' } as const;

@ApiTags('tokens')
@Controller('v1/tokens')
export class TokensController {
  constructor(
    private readonly issueToken: IssueTokenUseCase,
    private readonly refreshToken: RefreshTokenUseCase,
    private readonly revokeTokens: RevokeTokensUseCase,
    private readonly queries: TokenQueriesService,
    private readonly rateLimit: PublicRateLimiter,
  ) {}

  @Post()
  @HttpCode(201)
  @UseGuards(ApiKeyGuard)
  @RequireScopes(TOKEN_SCOPES.write)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Issue MQTT credentials for a user', description: 'Returns a tkn_ password (shown once) and an rt_ refresh token.' })
  @ApiCreatedResponse({ type: TokenCredentialsDto })
  async issue(@CurrentApiKey() caller: ApiKeyPrincipal, @Body() body: IssueTokenDto): Promise<TokenCredentialsDto> {
    return toCredentialsResponse(await this.issueToken.execute(caller, body));
  }

  @Post('refresh')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Exchange a refresh token for new credentials',
    description:
      'No API key: the refresh token is the credential. Single use; a reused refresh token revokes every token of its family (401 refresh_token_reused). ' +
      'Limited per client address (429 rate_limited with Retry-After).',
  })
  @ApiOkResponse({ type: TokenCredentialsDto })
  @ApiTooManyRequestsResponse({ description: 'rate_limited: too many requests from this address; see Retry-After' })
  async refresh(@Ip() ip: string, @Body() body: RefreshTokenDto): Promise<TokenCredentialsDto> {
    this.rateLimit.check(ip);
    return toCredentialsResponse(await this.refreshToken.execute(body.refresh_token));
  }

  @Post('introspect')
  @HttpCode(200)
  @UseGuards(ApiKeyGuard)
  @RequireScopes(TOKEN_SCOPES.read)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Introspect a tkn_ token (RFC 7662)', description: 'active=false for anything not live in your org.' })
  @ApiOkResponse({ type: IntrospectionDto })
  introspect(@CurrentApiKey() caller: ApiKeyPrincipal, @Body() body: IntrospectTokenDto): Promise<IntrospectionDto> {
    return this.queries.introspect(caller, body.token);
  }

  @Get()
  @UseGuards(ApiKeyGuard)
  @RequireScopes(TOKEN_SCOPES.read)
  @ApiBearerAuth()
  @ApiOperation({ summary: "List your org's tokens (metadata only)" })
  @ApiOkResponse({ type: TokenListDto })
  list(@CurrentApiKey() caller: ApiKeyPrincipal, @Query() query: ListTokensQueryDto): Promise<TokenListDto> {
    return this.queries.list(caller, { userId: query.user_id, status: query.status, limit: query.limit, cursor: query.cursor });
  }

  @Delete(':token_id')
  @HttpCode(204)
  @UseGuards(ApiKeyGuard)
  // tokens:write holds tokens:revoke too (see scopeHeld).
  @RequireScopes(TOKEN_SCOPES.revoke)
  @ApiBearerAuth()
  @ApiParam({ name: 'token_id', example: 'tok_3f9a1c2b7d4e5f6a7b8c9d0e' })
  @ApiOperation({ summary: 'Revoke a token', description: 'Idempotent. Live MQTT sessions using it are closed.' })
  @ApiNoContentResponse()
  async revoke(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('token_id') tokenId: string): Promise<void> {
    await this.revokeTokens.revokeToken(caller, tokenId);
  }
}

@ApiTags('tokens')
@Controller('v1/users')
export class UsersController {
  constructor(private readonly revokeTokens: RevokeTokensUseCase) {}

  @Post(':user_id/revoke')
  @HttpCode(200)
  @UseGuards(ApiKeyGuard)
  @RequireScopes(TOKEN_SCOPES.revoke)
  @ApiBearerAuth()
  @ApiParam({ name: 'user_id', example: 'user_xyz' })
  @ApiOperation({ summary: "Revoke all of a user's live tokens", description: 'Also their refresh tokens; live MQTT sessions are closed.' })
  @ApiOkResponse({ type: RevokedCountDto })
  async revokeUser(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('user_id') userId: string): Promise<RevokedCountDto> {
    return { revoked: await this.revokeTokens.revokeUser(caller, userId) };
  }
}
