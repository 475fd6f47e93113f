import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency-Key records of POST /v1/tokens and POST /v1/keys (@signet/http idempotency): one per
 * (API key, Idempotency-Key), the request's fingerprint and the sealed first response, kept 24 h.
 */
export class IdempotencyKeys1796500000000 implements MigrationInterface {
  name = 'IdempotencyKeys1796500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE idempotency_keys (
        scope text NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        status integer,
        body text,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (scope, key)
      )`);
    await q.query(`CREATE INDEX ix_idempotency_keys_expires ON idempotency_keys (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idempotency_keys`);
  }
}
