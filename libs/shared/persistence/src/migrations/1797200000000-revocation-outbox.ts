import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The revocation outbox: `published_at` stays null until the entry is on the bus, and the relay reads the
 * null ones (a partial index, so it costs nothing once they are out). Entries from before it were
 * published by the code of their time.
 */
export class RevocationOutbox1797200000000 implements MigrationInterface {
  name = 'RevocationOutbox1797200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE revocations ADD COLUMN published_at timestamptz`);
    await q.query(`UPDATE revocations SET published_at = created_at`);
    await q.query(`CREATE INDEX ix_revocations_unpublished ON revocations (seq) WHERE published_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_revocations_unpublished`);
    await q.query(`ALTER TABLE revocations DROP COLUMN published_at`);
  }
}
