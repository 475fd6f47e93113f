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
import { mqttUsername } from '@signet/credentials';
import { Idempotent } from '@signet/http';

import { TOKEN_ERRORS } from '../errors';
import { PublicRateLimiter } from '../rate-limit/public-rate-limiter';
import { Introspection, IntrospectTokenUseCase } from '../usecases/introspect/introspect.usecase';
import { IssueTokenUseCase } from '../usecases/issue/issue.usecase';
import { ListTokensUseCase } from '../usecases/list/list.usecase';
import { RefreshTokenUseCase } from '../usecases/refresh/refresh.usecase';
import { RevokeTokensUseCase } from '../usecases/revoke/revoke.usecase';
import {
  IntrospectionDto,
  IntrospectTokenDto,
  IssueTokenDto,
  ListTokensQueryDto,
  RefreshTokenDto,
  RevokedCountDto,
  TokenCredentialsDto,
  TokenListDto,
  toCredentialsResponse,
  toTokenMetadata,
} from './dto';

/** Scopes a restricted (`rk_`) key needs; `sk_` keys have them all. */
export const TOKEN_SCOPES = { read: 'tokens:read', write: 'tokens:write', revoke: 'tokens:revoke' } as const;

@ApiTags('tokens')
@Controller('v1/tokens')
export class TokensController {
  constructor(
    private readonly issueToken: IssueTokenUseCase,
    private readonly refreshToken: RefreshTokenUseCase,
    private readonly revokeTokens: RevokeTokensUseCase,
    private readonly listTokens: ListTokensUseCase,
    private readonly introspectToken: IntrospectTokenUseCase,
    private readonly rateLimit: PublicRateLimiter,
  ) {}

  @Post()
  @HttpCode(201)
  @UseGuards(ApiKeyGuard)
  @RequireScopes(TOKEN_SCOPES.write)
  @Idempotent()
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Issue MQTT credentials for a user', description: 'Returns a tkn_ password (shown once) and an rt_ refresh token.' })
  @ApiCreatedResponse({ type: TokenCredentialsDto })
  async issue(@CurrentApiKey() caller: ApiKeyPrincipal, @Body() body: IssueTokenDto): Promise<TokenCredentialsDto> {
    const credentials = await this.issueToken.execute({
      caller,
      userId: body.user_id,
      ttlSeconds: body.ttl_seconds,
      permissions: body.permissions,
      clientId: body.client_id,
    });
    return toCredentialsResponse(credentials);
  }

  @Post('refresh')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Exchange a refresh token for new credentials',
    description:
      `No API key: the refresh token is the credential. Single use; a reused refresh token revokes every token of its family (401 ${TOKEN_ERRORS.refreshTokenReused}). ` +
      `Limited per client address (429 ${TOKEN_ERRORS.rateLimited} with Retry-After).`,
  })
  @ApiOkResponse({ type: TokenCredentialsDto })
  @ApiTooManyRequestsResponse({ description: `${TOKEN_ERRORS.rateLimited}: too many requests from this address; see Retry-After` })
  async refresh(@Ip() ip: string, @Body() body: RefreshTokenDto): Promise<TokenCredentialsDto> {
    this.rateLimit.check(ip);
    return toCredentialsResponse(await this.refreshToken.execute({ refreshToken: body.refresh_token }));
  }

  @Post('introspect')
  @HttpCode(200)
  @UseGuards(ApiKeyGuard)
  @RequireScopes(TOKEN_SCOPES.read)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Introspect a tkn_ token (RFC 7662)', description: 'active=false for anything not live in your org.' })
  @ApiOkResponse({ type: IntrospectionDto })
  async introspect(@CurrentApiKey() caller: ApiKeyPrincipal, @Body() body: IntrospectTokenDto): Promise<IntrospectionDto> {
    return toIntrospectionResponse(await this.introspectToken.execute({ orgId: caller.orgId, token: body.token }));
  }

  @Get()
  @UseGuards(ApiKeyGuard)
  @RequireScopes(TOKEN_SCOPES.read)
  @ApiBearerAuth()
  @ApiOperation({ summary: "List your org's tokens (metadata only)" })
  @ApiOkResponse({ type: TokenListDto })
  async list(@CurrentApiKey() caller: ApiKeyPrincipal, @Query() query: ListTokensQueryDto): Promise<TokenListDto> {
    const page = await this.listTokens.execute({
      orgId: caller.orgId,
      userId: query.user_id,
      status: query.status,
      limit: query.limit,
      cursor: query.cursor,
    });
    return { tokens: page.tokens.map(({ token, status }) => toTokenMetadata(token, status)), next_cursor: page.nextCursor };
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
    await this.revokeTokens.revokeToken({ caller, tokenId });
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
    return { revoked: await this.revokeTokens.revokeUser({ caller, userId }) };
  }
}

function toIntrospectionResponse(result: Introspection): IntrospectionDto {
  if (!result.active) return { active: false };
  const { claims } = result;
  return {
    active: true,
    sub: claims.sub,
    org_id: claims.org,
    client_id: claims.cid ?? null,
    exp: claims.exp,
    iat: claims.iat,
    jti: claims.jti,
    // RFC 7662 §2.2 refers to RFC 6749 §7.1 token types: tkn_ is a bearer credential.
    token_type: 'Bearer',
    username: mqttUsername(claims.sub, claims.org),
    permissions: { publish: claims.perm.pub, subscribe: claims.perm.sub },
  };
}
