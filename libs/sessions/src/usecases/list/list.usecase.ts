import { Injectable } from '@nestjs/common';

import type { SessionRecord } from '@signet/mqtt-cluster';
import { pageLimit } from '@signet/persistence';

import { LiveSessions } from '../../session-directory';
import { checkClientId, checkUserId, decodeSessionCursor, encodeSessionCursor } from '../../session-policy';
import type { ListSessionsCommand } from './list.command';

export interface SessionPage {
  sessions: SessionRecord[];
  /** Null on the last page. */
  nextCursor: string | null;
}

const DEFAULT_PAGE = 50;
const MAX_PAGE = 100;

/** GET /v1/sessions: the org's live MQTT sessions on every edge, in client-id order (stable while sessions come and go). */
@Injectable()
export class ListSessionsUseCase {
  constructor(private readonly sessions: LiveSessions) {}

  async execute(command: ListSessionsCommand): Promise<SessionPage> {
    const limit = pageLimit(command.limit, DEFAULT_PAGE, MAX_PAGE);
    const page = await this.sessions.list(command.orgId, {
      limit,
      ...(command.userId !== undefined ? { userId: checkUserId(command.userId) } : {}),
      ...(command.clientId !== undefined ? { clientId: checkClientId(command.clientId) } : {}),
      ...(command.cursor !== undefined ? { after: decodeSessionCursor(command.cursor) } : {}),
    });
    const last = page.sessions[page.sessions.length - 1];
    return { sessions: page.sessions, nextCursor: page.more && last !== undefined ? encodeSessionCursor(last.clientId) : null };
  }
}
