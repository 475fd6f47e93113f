import { Injectable } from '@nestjs/common';

import { sessionNotFound } from '../../errors';
import { LiveSessions } from '../../session-directory';
import { checkClientId } from '../../session-policy';
import type { KickSessionCommand } from './kick.command';

/**
 * DELETE /v1/sessions/{client_id}: the edge that holds the connection closes it (5.0 DISCONNECT 0x98
 * Administrative action). The client may connect again: to keep it out, revoke its credential.
 */
@Injectable()
export class KickSessionUseCase {
  constructor(private readonly sessions: LiveSessions) {}

  async execute(command: KickSessionCommand): Promise<void> {
    const clientId = checkClientId(command.clientId);
    if (!(await this.sessions.kick(command.orgId, clientId))) throw sessionNotFound(clientId);
  }
}
