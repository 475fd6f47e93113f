import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * IdP sign-out reaches MQTT: tokens exchanged from an IdP token remember the
 * provider, the IdP session and the IdP user; each provider can have a sealed
 * events secret; received IdP events are kept (audit, replay detection).
 */
export class IdpEvents1796400000000 implements MigrationInterface {
  name = 'IdpEvents1796400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE issued_tokens ADD COLUMN idp_provider_id varchar(32) NULL`);
    await q.query(`ALTER TABLE issued_tokens ADD COLUMN idp_session_id varchar(256) NULL`);
    await q.query(`ALTER TABLE issued_tokens ADD COLUMN idp_subject varchar(256) NULL`);
    await q.query(`CREATE INDEX ix_issued_tokens_idp_session ON issued_tokens (idp_provider_id, idp_session_id)`);
    await q.query(`CREATE INDEX ix_issued_tokens_idp_subject ON issued_tokens (idp_provider_id, idp_subject)`);
    await q.query(`ALTER TABLE idp_providers ADD COLUMN events_secret_ciphertext text NULL`);
    await q.query(`
      CREATE TABLE idp_events (
        provider_id varchar(32) NOT NULL,
        event_id varchar(256) NOT NULL,
        digest varchar(64) NOT NULL,
        org_id varchar(32) NOT NULL,
        source varchar(32) NOT NULL,
        action varchar(32) NOT NULL,
        idp_subject varchar(256) NULL,
        idp_session_id varchar(256) NULL,
        revoked_tokens integer NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_idp_events PRIMARY KEY (provider_id, event_id),
        CONSTRAINT fk_idp_events_provider FOREIGN KEY (provider_id) REFERENCES idp_providers (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX ix_idp_events_received ON idp_events (received_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idp_events`);
    await q.query(`ALTER TABLE idp_providers DROP COLUMN events_secret_ciphertext`);
    await q.query(`DROP INDEX ix_issued_tokens_idp_subject`);
    await q.query(`DROP INDEX ix_issued_tokens_idp_session`);
    await q.query(`ALTER TABLE issued_tokens DROP COLUMN idp_subject`);
    await q.query(`ALTER TABLE issued_tokens DROP COLUMN idp_session_id`);
    await q.query(`ALTER TABLE issued_tokens DROP COLUMN idp_provider_id`);
  }
}
