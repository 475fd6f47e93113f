import { MigrationInterface, QueryRunner } from 'typeorm';

/** The retention job finds ended tokens by expiry and revocation; without these it would scan both tables every batch. */
export class TokenRetention1795930000000 implements MigrationInterface {
  name = 'TokenRetention1795930000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX ix_issued_tokens_expires ON issued_tokens (expires_at)`);
    await q.query(`CREATE INDEX ix_refresh_tokens_expires ON refresh_tokens (expires_at)`);
    await q.query(`CREATE INDEX ix_refresh_tokens_revoked ON refresh_tokens (revoked_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_refresh_tokens_revoked`);
    await q.query(`DROP INDEX ix_refresh_tokens_expires`);
    await q.query(`DROP INDEX ix_issued_tokens_expires`);
  }
}
