import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';

import { AuditEventEntity, DATA_SOURCE, keysetAfter, type KeysetPosition } from '@signet/persistence';

import type { AuditEvent, AuditOutcome, AuditType } from './audit-event';

/** What a list or an export asks for: always one org. */
export interface AuditFilter {
  orgId: string;
  type?: AuditType;
  actorId?: string;
  action?: string;
  outcome?: AuditOutcome;
  since?: Date;
  until?: Date;
}

export interface AuditRepository {
  insertMany(events: readonly AuditEvent[]): Promise<void>;
  /** Newest first, `limit` rows after `after` (keyset on at, id). */
  list(filter: AuditFilter, limit: number, after?: KeysetPosition): Promise<AuditEvent[]>;
  /** Deletes up to `batch` events older than `cutoff`; how many went. */
  deleteOlderThan(cutoff: Date, batch: number): Promise<number>;
}

export const AUDIT_REPOSITORY = Symbol('AUDIT_REPOSITORY');

@Injectable()
export class TypeOrmAuditRepository implements AuditRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async insertMany(events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.dataSource.createQueryBuilder().insert().into(AuditEventEntity).values(events.map(toRow) as QueryDeepPartialEntity<AuditEventEntity>[]).execute();
  }

  async list(filter: AuditFilter, limit: number, after?: KeysetPosition): Promise<AuditEvent[]> {
    const q = this.dataSource.getRepository(AuditEventEntity).createQueryBuilder('e').where('e.org_id = :orgId', { orgId: filter.orgId });
    if (filter.type) q.andWhere('e.type = :type', { type: filter.type });
    if (filter.actorId) q.andWhere('e.actor_id = :actorId', { actorId: filter.actorId });
    if (filter.action) q.andWhere('e.action = :action', { action: filter.action });
    if (filter.outcome) q.andWhere('e.outcome = :outcome', { outcome: filter.outcome });
    if (filter.since) q.andWhere('e.at >= :since', { since: filter.since });
    if (filter.until) q.andWhere('e.at < :until', { until: filter.until });
    if (after) {
      const keyset = keysetAfter('e.at', 'e.id', after);
      q.andWhere(keyset.where, keyset.parameters);
    }
    const rows = await q.orderBy('e.at', 'DESC').addOrderBy('e.id', 'DESC').limit(limit).getMany();
    return rows.map(fromRow);
  }

  async deleteOlderThan(cutoff: Date, batch: number): Promise<number> {
    const rows: Array<{ n: number }> = await this.dataSource.query(
      `WITH gone AS (DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < $1 LIMIT $2) RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [cutoff, batch],
    );
    return rows[0]?.n ?? 0;
  }
}

function toRow(e: AuditEvent): AuditEventEntity {
  return {
    id: e.id,
    orgId: e.orgId,
    at: e.at,
    type: e.type,
    actorKind: e.actor.kind,
    actorId: e.actor.id,
    action: e.action,
    target: e.target,
    outcome: e.outcome,
    address: e.address,
    edgeId: e.edgeId,
    reasonCode: e.reasonCode,
    durationMs: e.durationMs,
    requestId: e.requestId,
    details: e.details,
  };
}

function fromRow(r: AuditEventEntity): AuditEvent {
  return {
    id: r.id,
    orgId: r.orgId,
    at: r.at,
    type: r.type as AuditType,
    actor: { kind: r.actorKind, id: r.actorId },
    action: r.action,
    target: r.target,
    outcome: r.outcome as AuditOutcome,
    address: r.address,
    edgeId: r.edgeId,
    reasonCode: r.reasonCode,
    durationMs: r.durationMs,
    requestId: r.requestId,
    details: r.details,
  };
}
