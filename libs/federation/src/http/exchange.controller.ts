import { Body, Controller, Headers, HttpCode, Ip, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';

import { ApiKeysService } from '@signet/api-keys';
import { scopeHeld } from '@signet/credentials';
import { badRequest, forbidden, unauthorized } from '@signet/http';
import { PublicRateLimiter, TOKEN_SCOPES, TokenCredentialsDto, toCredentialsResponse } from '@signet/tokens';

import { refuse } from '../errors';
import { ExchangeDto } from './dto';
import { ExchangeService } from './exchange.service';

/** `Authorization: Bearer <credential>`; the scheme is case-insensitive (RFC 7235 §2.1). */
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const API_KEY_PREFIX = /^(sk|rk)_/;

@ApiTags('federation')
@Controller('v1/federation')
export class ExchangeController {
  constructor(
    private readonly exchangeService: ExchangeService,
    private readonly apiKeys: ApiKeysService,
    private readonly rateLimit: PublicRateLimiter,
  ) {}

  @Post('exchange')
  @HttpCode(201)
  @ApiBearerAuth()
  @ApiOperation({
    summary: "Exchange an identity provider's token for MQTT credentials",
    description:
      'Authorization: Bearer <IdP token> with { provider_id }; or, from a backend, Authorization: Bearer sk_… with { provider_id, id_token }. ' +
      'Refusals are 401 problems with a stable code (malformed_token, unsupported_algorithm, unknown_key, invalid_signature, token_expired, ' +
      'token_not_yet_valid, invalid_issuer, invalid_audience, invalid_claims, invalid_user_claim, unknown_provider); 503 idp_unavailable when the IdP ' +
      'cannot be reached and no keys are cached. Without id_token (a device or browser calling), limited per client address: 429 rate_limited with Retry-After.',
  })
  @ApiCreatedResponse({ type: TokenCredentialsDto })
  @ApiTooManyRequestsResponse({ description: 'rate_limited: too many requests from this address; see Retry-After' })
  async exchange(@Headers('authorization') authorization: string | undefined, @Ip() ip: string, @Body() body: ExchangeDto): Promise<TokenCredentialsDto> {
    const bearer = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
    if (authorization !== undefined && authorization !== '' && bearer === undefined) {
      throw refuse('malformed_token', 'the Authorization header must be "Bearer <token>"');
    }
    // A backend's call (id_token in the body) is authenticated by its API key, whose failures are throttled on their own;
    // everything else comes from end-user devices and counts against the address' bucket.
    if (body.id_token === undefined) this.rateLimit.check(ip);
    const common = { providerId: body.provider_id, ttlSeconds: body.ttl_seconds, clientId: body.client_id };
    if (body.id_token !== undefined) {
      // A backend's call: the Authorization header must be its own API key.
      if (bearer === undefined) throw unauthorized('missing_api_key', 'with id_token in the body, send your API key as "Authorization: Bearer sk_…"');
      if (!API_KEY_PREFIX.test(bearer)) throw unauthorized('invalid_api_key', 'with id_token in the body, the Authorization header must carry an API key');
      const caller = await this.apiKeys.verify(bearer, { ip });
      if (caller.type === 'restricted' && !scopeHeld(caller.scopes, TOKEN_SCOPES.write, caller.orgId)) {
        throw forbidden('insufficient_scope', `this API key lacks the scope ${TOKEN_SCOPES.write}`);
      }
      return toCredentialsResponse(await this.exchangeService.exchange({ ...common, idToken: body.id_token, caller }));
    }
    if (bearer === undefined) throw refuse('missing_idp_token', 'send the identity provider token as "Authorization: Bearer <token>"');
    // An API key where an IdP token belongs is a mistake worth naming (and must never be treated as a JWT).
    if (API_KEY_PREFIX.test(bearer)) throw badRequest('missing_id_token', 'with an API key, pass the IdP token as id_token in the body');
    return toCredentialsResponse(await this.exchangeService.exchange({ ...common, idToken: bearer }));
  }
}
