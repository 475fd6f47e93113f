import { Module } from '@nestjs/common';

import { ApiKeysModule } from '@signet/api-keys';

import { SessionsController } from './http/sessions.controller';
import { LiveSessions } from './session-directory';
import { KickSessionUseCase } from './usecases/kick/kick.usecase';
import { ListSessionsUseCase } from './usecases/list/list.usecase';

/**
 * Live MQTT sessions: GET /v1/sessions and DELETE /v1/sessions/{client_id}. Wiring only; the composition
 * gives LiveSessions its directory (`app.get(LiveSessions).use(…)`): the edges' registry on Redis, or the
 * in-process edge.
 */
@Module({
  imports: [ApiKeysModule],
  controllers: [SessionsController],
  providers: [LiveSessions, ListSessionsUseCase, KickSessionUseCase],
  exports: [LiveSessions],
})
export class SessionsModule {}
