import type { KeysetPosition } from '@signet/persistence';

import type { AuditEvent } from '../audit-event';
import type { AuditFilter, AuditRepository } from '../audit.repository';

/** AuditRepository in memory, for policy specs: the same filters and order as the SQL. */
export class InMemoryAuditRepository implements AuditRepository {
  readonly events: AuditEvent[] = [];
  /** Set to make the next insert fail once (a database outage). */
  failNextInsert = false;

  async insertMany(events: readonly AuditEvent[]): Promise<void> {
    if (this.failNextInsert) {
      this.failNextInsert = false;
      throw new Error('database unavailable');
    }
    this.events.push(...events);
  }

  async list(filter: AuditFilter, limit: number, after?: KeysetPosition): Promise<AuditEvent[]> {
    return this.events
      .filter(
        (e) =>
          e.orgId === filter.orgId &&
          (!filter.type || e.type === filter.type) &&
          (!filter.actorId || e.actor.id === filter.actorId) &&
          (!filter.action || e.action === filter.action) &&
          (!filter.outcome || e.outcome === filter.outcome) &&
          (!filter.since || e.at >= filter.since) &&
          (!filter.until || e.at < filter.until) &&
          (!after || e.at < after.at || (e.at.getTime() === after.at.getTime() && e.id < after.id)),
      )
      .sort((a, b) => b.at.getTime() - a.at.getTime() || (a.id < b.id ? 1 : -1))
      .slice(0, limit);
  }

  async deleteOlderThan(cutoff: Date, batch: number): Promise<number> {
    let deleted = 0;
    for (let i = this.events.length - 1; i >= 0 && deleted < batch; i--) {
      if (this.events[i]!.at < cutoff) {
        this.events.splice(i, 1);
        deleted++;
      }
    }
    return deleted;
  }
}
