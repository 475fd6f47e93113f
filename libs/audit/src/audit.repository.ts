import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

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

/*
 * One fixed statement per batch, its rows as arrays (unnest). TypeORM's insert builder held the event loop
 * 30–50 ms for a batch of ~460 events (15 parameters each), once a second at 500 issuances a second: every
 * request arriving meanwhile waited (2026-12-03, docs/credential-performance.md).
 */
const INSERT_SQL = `INSERT INTO audit_events (id, org_id, at, type, actor_kind, actor_id, action, target, outcome, address, edge_id,
                                              reason_code, duration_ms, request_id, details)
  SELECT id, org_id, at, type, actor_kind, actor_id, action, target, outcome, address, edge_id, reason_code, duration_ms, request_id, details::jsonb
    FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                $10::text[], $11::text[], $12::text[], $13::float8[], $14::text[], $15::text[])
      AS v(id, org_id, at, type, actor_kind, actor_id, action, target, outcome, address, edge_id, reason_code, duration_ms, request_id, details)`;

/** The batch as one array per column, in INSERT_SQL's order. */
function insertColumns(events: readonly AuditEvent[]): unknown[][] {
  const column = (f: (e: AuditEvent) => unknown): unknown[] => events.map(f);
  return [
    column((e) => e.id),
    column((e) => e.orgId),
    column((e) => e.at),
    column((e) => e.type),
    column((e) => e.actor.kind),
    column((e) => e.actor.id),
    column((e) => e.action),
    column((e) => e.target),
    column((e) => e.outcome),
    column((e) => e.address),
    column((e) => e.edgeId),
    column((e) => e.reasonCode),
    column((e) => e.durationMs),
    column((e) => e.requestId),
    // SQL NULL for no details, not the JSON null.
    column((e) => (e.details === null ? null : JSON.stringify(e.details))),
  ];
}

@Injectable()
export class TypeOrmAuditRepository implements AuditRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async insertMany(events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.dataSource.query(INSERT_SQL, insertColumns(events));
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
