import { MigrationInterface, QueryRunner } from 'typeorm';

/** The revocation relay reads the last minute of the log every few seconds (RevocationStore.listRecent). */
export class RevocationRelay1796600000000 implements MigrationInterface {
  name = 'RevocationRelay1796600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX ix_revocations_created_at ON revocations (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_revocations_created_at`);
  }
}
