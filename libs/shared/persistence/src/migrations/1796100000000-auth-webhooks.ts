import { MigrationInterface, QueryRunner } from 'typeorm';

/** An org's auth webhook (secrets sealed with the master key) and its authenticator chain. */
export class AuthWebhooks1796100000000 implements MigrationInterface {
  name = 'AuthWebhooks1796100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE auth_webhooks (
        org_id varchar(32) NOT NULL,
        url varchar(2048) NOT NULL,
        secret_sealed text NOT NULL,
        previous_secret_sealed text,
        previous_secret_until timestamptz,
        send_password boolean NOT NULL DEFAULT false,
        fail_mode varchar(8) NOT NULL DEFAULT 'deny',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_auth_webhooks PRIMARY KEY (org_id),
        CONSTRAINT fk_auth_webhooks_org FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE,
        CONSTRAINT ck_auth_webhooks_fail_mode CHECK (fail_mode IN ('deny', 'ignore'))
      )`);
    await q.query(`
      CREATE TABLE authenticator_chains (
        org_id varchar(32) NOT NULL,
        steps text[] NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_authenticator_chains PRIMARY KEY (org_id),
        CONSTRAINT fk_authenticator_chains_org FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE authenticator_chains`);
    await q.query(`DROP TABLE auth_webhooks`);
  }
}
