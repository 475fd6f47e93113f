import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API key lifecycle: rotation links (a rotated key points to its successor and
 * back), the marker of an expiry that has been pushed to the edges as a
 * revocation, and hourly usage counters per key.
 */
export class ApiKeyLifecycle1795900000000 implements MigrationInterface {
  name = 'ApiKeyLifecycle1795900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys ADD COLUMN rotated_from varchar(32) NULL`);
    await q.query(`ALTER TABLE api_keys ADD COLUMN replaced_by varchar(32) NULL`);
    await q.query(`ALTER TABLE api_keys ADD COLUMN expiry_enforced_at timestamptz NULL`);
    // The expiry sweeper looks for keys whose expires_at has passed.
    await q.query(`CREATE INDEX ix_api_keys_expires ON api_keys (expires_at)`);

    await q.query(`
      CREATE TABLE api_key_usage (
        key_id varchar(32) NOT NULL,
        bucket_start timestamptz NOT NULL,
        api_calls bigint NOT NULL,
        mqtt_connects bigint NOT NULL,
        messages_published bigint NOT NULL,
        bytes_published bigint NOT NULL,
        denials bigint NOT NULL,
        CONSTRAINT pk_api_key_usage PRIMARY KEY (key_id, bucket_start),
        CONSTRAINT fk_api_key_usage_key FOREIGN KEY (key_id) REFERENCES api_keys (id) ON DELETE CASCADE
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_key_usage`);
    await q.query(`DROP INDEX ix_api_keys_expires`);
    await q.query(`ALTER TABLE api_keys DROP COLUMN expiry_enforced_at`);
    await q.query(`ALTER TABLE api_keys DROP COLUMN replaced_by`);
    await q.query(`ALTER TABLE api_keys DROP COLUMN rotated_from`);
  }
}
