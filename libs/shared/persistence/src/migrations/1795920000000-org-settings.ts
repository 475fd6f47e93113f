import { MigrationInterface, QueryRunner } from 'typeorm';

/** Per-org settings; the first is the will policy on revoke and expiry (suppressed by default). */
export class OrgSettings1795920000000 implements MigrationInterface {
  name = 'OrgSettings1795920000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE org_settings (
        org_id varchar(32) NOT NULL,
        will_on_revoke varchar(16) NOT NULL DEFAULT 'suppress',
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_org_settings PRIMARY KEY (org_id),
        CONSTRAINT fk_org_settings_org FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE,
        CONSTRAINT ck_org_settings_will_on_revoke CHECK (will_on_revoke IN ('suppress', 'publish'))
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE org_settings`);
  }
}
