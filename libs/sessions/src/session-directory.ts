import { Injectable } from '@nestjs/common';

import type { SessionDirectory, SessionQuery, SessionRecord } from '@signet/mqtt-cluster';

/**
 * Where this process reads live sessions from, set by its composition once it knows: the edges' registry
 * on Redis (RedisSessionDirectory) when REDIS_URL is set, else the in-process edge (MqttEdge.sessions).
 * The all-in-one starts its edge after the HTTP app, hence a holder rather than a value. Until set (or in
 * a process with neither), there are no sessions to list or kick.
 */
@Injectable()
export class LiveSessions implements SessionDirectory {
  private directory: SessionDirectory | null = null;

  use(directory: SessionDirectory): void {
    this.directory = directory;
  }

  list(orgId: string, query: SessionQuery): Promise<{ sessions: SessionRecord[]; more: boolean }> {
    return this.directory?.list(orgId, query) ?? Promise.resolve({ sessions: [], more: false });
  }

  kick(orgId: string, clientId: string): Promise<boolean> {
    return this.directory?.kick(orgId, clientId) ?? Promise.resolve(false);
  }
}
