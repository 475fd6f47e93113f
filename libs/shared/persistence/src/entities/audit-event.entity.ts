import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One line of the audit log (@signet/audit): an administrative action on the
 * API or an IdP/directory/bootstrap event (`admin`), or a CONNECT decision of
 * an edge (`auth`). Never a secret or a request body: ids only. A row of a
 * flood stands for `details.count` decisions.
 */
@Entity({ name: 'audit_events' })
@Index('ix_audit_events_org_at', ['orgId', 'at', 'id'])
@Index('ix_audit_events_org_type_at', ['orgId', 'type', 'at', 'id'])
@Index('ix_audit_events_org_actor_at', ['orgId', 'actorId', 'at', 'id'])
@Index('ix_audit_events_at', ['at'])
export class AuditEventEntity {
  @PrimaryColumn({ type: 'varchar', length: 32, name: 'id', primaryKeyConstraintName: 'pk_audit_events' })
  id!: string;

  /** Null when the event names no org (a CONNECT whose username has none). */
  @Column({ type: 'varchar', length: 32, name: 'org_id', nullable: true })
  orgId!: string | null;

  @Column({ type: 'timestamptz', name: 'at' })
  at!: Date;

  /** 'admin' or 'auth'. */
  @Column({ type: 'varchar', length: 8, name: 'type' })
  type!: string;

  /** 'api_key', 'account', 'system', 'idp', 'directory'; for CONNECTs the credential kind or 'unknown'. */
  @Column({ type: 'varchar', length: 16, name: 'actor_kind' })
  actorKind!: string;

  @Column({ type: 'varchar', length: 256, name: 'actor_id', nullable: true })
  actorId!: string | null;

  @Column({ type: 'varchar', length: 64, name: 'action' })
  action!: string;

  @Column({ type: 'varchar', length: 256, name: 'target', nullable: true })
  target!: string | null;

  /** 'success' or 'failure'. */
  @Column({ type: 'varchar', length: 8, name: 'outcome' })
  outcome!: string;

  @Column({ type: 'varchar', length: 64, name: 'address', nullable: true })
  address!: string | null;

  @Column({ type: 'varchar', length: 128, name: 'edge_id', nullable: true })
  edgeId!: string | null;

  @Column({ type: 'varchar', length: 64, name: 'reason_code', nullable: true })
  reasonCode!: string | null;

  @Column({ type: 'double precision', name: 'duration_ms', nullable: true })
  durationMs!: number | null;

  @Column({ type: 'varchar', length: 128, name: 'request_id', nullable: true })
  requestId!: string | null;

  @Column({ type: 'jsonb', name: 'details', nullable: true })
  details!: Record<string, unknown> | null;
}
