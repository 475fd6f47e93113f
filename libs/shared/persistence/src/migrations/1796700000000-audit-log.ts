import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log (@signet/audit): administrative actions and CONNECT decisions,
 * listed newest first per org with keyset paging on (at, id), filtered by type
 * or actor; `ix_audit_events_at` serves the retention job's deletes.
 */
export class AuditLog1796700000000 implements MigrationInterface {
  name = 'AuditLog1796700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_events (
        id varchar(32) NOT NULL,
        org_id varchar(32) NULL,
        at timestamptz NOT NULL,
        type varchar(8) NOT NULL,
        actor_kind varchar(16) NOT NULL,
        actor_id varchar(256) NULL,
        action varchar(64) NOT NULL,
        target varchar(256) NULL,
        outcome varchar(8) NOT NULL,
        address varchar(64) NULL,
        edge_id varchar(128) NULL,
        reason_code varchar(64) NULL,
        duration_ms double precision NULL,
        request_id varchar(128) NULL,
        details jsonb NULL,
        CONSTRAINT pk_audit_events PRIMARY KEY (id)
      )`);
    await q.query(`CREATE INDEX ix_audit_events_org_at ON audit_events (org_id, at, id)`);
    await q.query(`CREATE INDEX ix_audit_events_org_type_at ON audit_events (org_id, type, at, id)`);
    await q.query(`CREATE INDEX ix_audit_events_org_actor_at ON audit_events (org_id, actor_id, at, id)`);
    await q.query(`CREATE INDEX ix_audit_events_at ON audit_events (at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_events`);
  }
}
