import { MigrationInterface, QueryRunner } from 'typeorm';

/** People who sign in (accounts), the first account's sign-up code, and the authorization server's state. */
export class AccountsSignIn1796000000000 implements MigrationInterface {
  name = 'AccountsSignIn1796000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE accounts (
        id varchar(32) NOT NULL,
        org_id varchar(32) NOT NULL,
        username varchar(64) NOT NULL,
        password_hash text NOT NULL,
        role varchar(16) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_accounts PRIMARY KEY (id),
        CONSTRAINT fk_accounts_org FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE,
        CONSTRAINT ck_accounts_role CHECK (role IN ('owner', 'admin', 'viewer'))
      )`);
    await q.query(`CREATE UNIQUE INDEX uq_accounts_username ON accounts (username)`);
    await q.query(`CREATE INDEX ix_accounts_org ON accounts (org_id)`);
    await q.query(`
      CREATE TABLE account_signup_codes (
        org_id varchar(32) NOT NULL,
        code_hash varchar(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_account_signup_codes PRIMARY KEY (org_id),
        CONSTRAINT fk_account_signup_codes_org FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE UNIQUE INDEX uq_account_signup_codes_hash ON account_signup_codes (code_hash)`);
    await q.query(`
      CREATE TABLE oidc_payloads (
        kind varchar(64) NOT NULL,
        id varchar(255) NOT NULL,
        payload jsonb NOT NULL,
        grant_id varchar(255),
        user_code varchar(255),
        uid varchar(255),
        expires_at timestamptz,
        CONSTRAINT pk_oidc_payloads PRIMARY KEY (kind, id)
      )`);
    await q.query(`CREATE INDEX ix_oidc_payloads_grant ON oidc_payloads (grant_id)`);
    await q.query(`CREATE INDEX ix_oidc_payloads_user_code ON oidc_payloads (user_code)`);
    await q.query(`CREATE INDEX ix_oidc_payloads_uid ON oidc_payloads (uid)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE oidc_payloads`);
    await q.query(`DROP TABLE account_signup_codes`);
    await q.query(`DROP TABLE accounts`);
  }
}
