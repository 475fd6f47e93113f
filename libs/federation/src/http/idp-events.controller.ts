import { Body, Controller, Headers, HttpCode, Param, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiTags } from '@nestjs/swagger';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';

import { ApiKeyGuard, ApiKeyPrincipal, CurrentApiKey, RequireScopes } from '@signet/api-keys';
import { ApiProblems, FORM_BODY } from '@signet/http';

import { FEDERATION_ERRORS } from '../errors';

import { CreateEventsSecretUseCase } from '../usecases/create-events-secret/create-events-secret.usecase';
import type { ReceivedIdpEvent } from '../usecases/receive-event/receive-event.command';
import { ReceiveIdpEventUseCase } from '../usecases/receive-event/receive-event.usecase';
import { IDP_SCOPES } from './idp-providers.controller';

export class EventsSecretDto {
  @ApiProperty({ description: 'Shown once. Supabase webhooks send it as `Authorization: Bearer …`; the generic call signs with it (Standard Webhooks).', example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })
  events_secret!: string;
}

export class IdpEventResultDto {
  @ApiProperty({ enum: ['revoke_session', 'revoke_user', 'ignored'] })
  action!: string;

  @ApiProperty({ description: 'Tokens revoked by this event (0 for a replay: the first delivery did the work).' })
  revoked_tokens!: number;

  @ApiProperty({ description: 'This very event was received before.' })
  replayed!: boolean;
}

const toResult = (r: ReceivedIdpEvent): IdpEventResultDto => ({ action: r.action, revoked_tokens: r.revokedTokens, replayed: r.replayed });

/** The raw body, as the JSON parser received it (signatures are over bytes, not over re-serialised JSON). */
const rawBodyOf = (req: FastifyRequest): Buffer => (req as FastifyRequest & { rawBody?: Buffer }).rawBody ?? Buffer.alloc(0);

@ApiTags('federation')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('v1/idp-providers')
export class IdpEventsSecretController {
  constructor(private readonly createSecret: CreateEventsSecretUseCase) {}

  @Post(':id/events-secret')
  @ApiProblems({ 404: [FEDERATION_ERRORS.providerNotFound] })
  @HttpCode(201)
  @RequireScopes(IDP_SCOPES.write)
  @ApiParam({ name: 'id', example: 'idp_3f9a1c2b7d4e5f6a7b8c9d0e' })
  @ApiOperation({ summary: "Create (or replace) the provider's events secret", description: 'Authenticates the IdP events sent to /v1/idp-events/{id}/…; the previous secret stops working.' })
  @ApiCreatedResponse({ type: EventsSecretDto })
  async create(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('id') id: string): Promise<EventsSecretDto> {
    return { events_secret: await this.createSecret.execute({ orgId: caller.orgId, providerId: id }) };
  }
}

/** Where an org points its IdP: authenticated by the event itself (secret, signature, logout token), not by an API key. */
@ApiTags('federation')
@ApiProblems({
  401: [FEDERATION_ERRORS.invalidEventSignature, FEDERATION_ERRORS.eventTimestampOutOfRange],
  404: [FEDERATION_ERRORS.providerNotFound],
  409: [FEDERATION_ERRORS.eventIdReused],
})
@Controller('v1/idp-events')
export class IdpEventsController {
  constructor(private readonly receive: ReceiveIdpEventUseCase) {}

  @Post(':provider_id/supabase')
  @ApiProblems({ 400: [FEDERATION_ERRORS.invalidEvent] })
  @HttpCode(200)
  @ApiParam({ name: 'provider_id', example: 'idp_3f9a1c2b7d4e5f6a7b8c9d0e' })
  @ApiHeader({ name: 'authorization', description: 'Bearer <events secret>' })
  @ApiOperation({ summary: 'Supabase database webhook on auth.users / auth.sessions', description: 'A deleted or banned user, or a deleted session, revokes the matching exchanged tokens.' })
  @ApiOkResponse({ type: IdpEventResultDto })
  async supabase(
    @Param('provider_id') providerId: string,
    @Req() req: FastifyRequest,
    @Body() body: unknown,
    @Headers('authorization') authorization?: string,
    @Headers('x-signet-events-secret') headerSecret?: string,
  ): Promise<IdpEventResultDto> {
    return toResult(await this.receive.execute({ source: 'supabase_webhook', providerId, rawBody: rawBodyOf(req), body, authorization, headerSecret }));
  }

  @Post(':provider_id/backchannel-logout')
  @RouteConfig(FORM_BODY)
  @ApiProblems({ 400: [FEDERATION_ERRORS.invalidLogoutToken, FEDERATION_ERRORS.logoutNotConfigured], 503: [FEDERATION_ERRORS.idpUnavailable] })
  @HttpCode(200)
  @ApiParam({ name: 'provider_id', example: 'idp_3f9a1c2b7d4e5f6a7b8c9d0e' })
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiBody({ schema: { type: 'object', required: ['logout_token'], properties: { logout_token: { type: 'string' } } } })
  @ApiOperation({ summary: 'OIDC Back-Channel Logout 1.0', description: "The OP's logout token ends the tokens exchanged in that session (sid) or of that user (sub)." })
  @ApiOkResponse({ type: IdpEventResultDto })
  async backchannelLogout(@Param('provider_id') providerId: string, @Body() body: unknown): Promise<IdpEventResultDto> {
    const logoutToken = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['logout_token'] : undefined;
    return toResult(await this.receive.execute({ source: 'backchannel_logout', providerId, logoutToken }));
  }

  @Post(':provider_id/revoke')
  @ApiProblems({ 400: [FEDERATION_ERRORS.invalidEvent] })
  @HttpCode(200)
  @ApiParam({ name: 'provider_id', example: 'idp_3f9a1c2b7d4e5f6a7b8c9d0e' })
  @ApiHeader({ name: 'webhook-id', required: true })
  @ApiHeader({ name: 'webhook-timestamp', required: true })
  @ApiHeader({ name: 'webhook-signature', required: true, description: 'v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">' })
  @ApiBody({ schema: { type: 'object', required: ['type'], properties: { type: { type: 'string', enum: ['session.revoked', 'user.revoked'] }, sid: { type: 'string' }, sub: { type: 'string' } } } })
  @ApiOperation({ summary: 'Revoke an IdP session or user (signed call, Standard Webhooks)' })
  @ApiOkResponse({ type: IdpEventResultDto })
  async revoke(
    @Param('provider_id') providerId: string,
    @Req() req: FastifyRequest,
    @Body() body: unknown,
    @Headers('webhook-id') webhookId?: string,
    @Headers('webhook-timestamp') webhookTimestamp?: string,
    @Headers('webhook-signature') webhookSignature?: string,
  ): Promise<IdpEventResultDto> {
    return toResult(await this.receive.execute({ source: 'signed_call', providerId, rawBody: rawBodyOf(req), body, webhookId, webhookTimestamp, webhookSignature }));
  }
}
