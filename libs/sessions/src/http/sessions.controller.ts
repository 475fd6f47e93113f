import { Controller, Delete, Get, HttpCode, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';

import { ApiKeyGuard, ApiKeyPrincipal, CurrentApiKey, RequireScopes } from '@signet/api-keys';
import { ApiProblems, HTTP_ERRORS } from '@signet/http';

import { SESSION_ERRORS } from '../errors';
import { KickSessionUseCase } from '../usecases/kick/kick.usecase';
import { ListSessionsUseCase } from '../usecases/list/list.usecase';
import { ListSessionsQueryDto, SessionListDto, toSessionDto } from './dto';

/** Scopes a restricted (`rk_`) key needs; `sk_` keys have them all. Accounts: viewers read, owners and admins kick. */
export const SESSION_SCOPES = { read: 'sessions:read', write: 'sessions:write' } as const;

@ApiTags('sessions')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('v1/sessions')
export class SessionsController {
  constructor(
    private readonly listSessions: ListSessionsUseCase,
    private readonly kickSession: KickSessionUseCase,
  ) {}

  @Get()
  @RequireScopes(SESSION_SCOPES.read)
  @ApiProblems({ 400: [HTTP_ERRORS.invalidCursor, SESSION_ERRORS.invalidUserId, SESSION_ERRORS.invalidClientId] })
  @ApiOperation({ summary: "List your org's live MQTT sessions", description: 'On every edge, in client-id order; filter by user_id or client_id.' })
  @ApiOkResponse({ type: SessionListDto })
  async list(@CurrentApiKey() caller: ApiKeyPrincipal, @Query() query: ListSessionsQueryDto): Promise<SessionListDto> {
    const page = await this.listSessions.execute({ orgId: caller.orgId, userId: query.user_id, clientId: query.client_id, cursor: query.cursor, limit: query.limit });
    return { sessions: page.sessions.map(toSessionDto), next_cursor: page.nextCursor };
  }

  @Delete(':client_id')
  @HttpCode(204)
  @RequireScopes(SESSION_SCOPES.write)
  @ApiProblems({ 400: [SESSION_ERRORS.invalidClientId], 404: [SESSION_ERRORS.sessionNotFound] })
  @ApiParam({ name: 'client_id', example: 'device-7' })
  @ApiOperation({
    summary: 'Kick a live MQTT session',
    description: 'The edge that holds it closes it (MQTT 5: DISCONNECT 0x98 Administrative action). The client may reconnect: revoke its credential to keep it out.',
  })
  @ApiNoContentResponse()
  async kick(@CurrentApiKey() caller: ApiKeyPrincipal, @Param('client_id') clientId: string): Promise<void> {
    await this.kickSession.execute({ orgId: caller.orgId, clientId });
  }
}
