import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Second factors of accounts (TOTP, recovery codes) and sign-in through an org's own OpenID Provider
 * (SSO): its connection and the IdP subjects linked to accounts. An account made by SSO has no password.
 */
export class TotpSso1797300000000 implements MigrationInterface {
  name = 'TotpSso1797300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE accounts ALTER COLUMN password_hash DROP NOT NULL`);
    await q.query(`
      CREATE TABLE account_totp (
        account_id varchar(32) NOT NULL,
        secret_sealed text NOT NULL,
        confirmed_at timestamptz,
        last_step bigint,
        failed_attempts integer NOT NULL DEFAULT 0,
        locked_until timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_account_totp PRIMARY KEY (account_id),
        CONSTRAINT fk_account_totp_account FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE
      )`);
    await q.query(`
      CREATE TABLE account_recovery_codes (
        account_id varchar(32) NOT NULL,
        code_hash varchar(64) NOT NULL,
        CONSTRAINT pk_account_recovery_codes PRIMARY KEY (account_id, code_hash),
        CONSTRAINT fk_account_recovery_codes_account FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE
      )`);
    await q.query(`
      CREATE TABLE sso_connections (
        id varchar(32) NOT NULL,
        org_id varchar(32) NOT NULL,
        name varchar(64) NOT NULL,
        issuer text NOT NULL,
        client_id varchar(255) NOT NULL,
        client_secret_sealed text NOT NULL,
        allowed_domains text[] NOT NULL DEFAULT '{}',
        default_role varchar(16),
        link_by_email boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_sso_connections PRIMARY KEY (id),
        CONSTRAINT fk_sso_connections_org FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE,
        CONSTRAINT ck_sso_connections_role CHECK (default_role IS NULL OR default_role IN ('admin', 'viewer'))
      )`);
    await q.query(`CREATE UNIQUE INDEX uq_sso_connections_org ON sso_connections (org_id)`);
    await q.query(`
      CREATE TABLE sso_identities (
        connection_id varchar(32) NOT NULL,
        subject varchar(255) NOT NULL,
        account_id varchar(32) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_sso_identities PRIMARY KEY (connection_id, subject),
        CONSTRAINT fk_sso_identities_connection FOREIGN KEY (connection_id) REFERENCES sso_connections (id) ON DELETE CASCADE,
        CONSTRAINT fk_sso_identities_account FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX ix_sso_identities_account ON sso_identities (account_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE sso_identities`);
    await q.query(`DROP TABLE sso_connections`);
    await q.query(`DROP TABLE account_recovery_codes`);
    await q.query(`DROP TABLE account_totp`);
    await q.query(`DELETE FROM accounts WHERE password_hash IS NULL`);
    await q.query(`ALTER TABLE accounts ALTER COLUMN password_hash SET NOT NULL`);
  }
}
