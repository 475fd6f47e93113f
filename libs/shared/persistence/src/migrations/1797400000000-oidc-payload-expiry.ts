import { MigrationInterface, QueryRunner } from 'typeorm';

/** Expired models of the authorization server are deleted in batches by expiry; this index finds them. */
export class OidcPayloadExpiry1797400000000 implements MigrationInterface {
  name = 'OidcPayloadExpiry1797400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX ix_oidc_payloads_expires_at ON oidc_payloads (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_oidc_payloads_expires_at`);
  }
}
