import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The initial schema, hand-written so production and embedded (PGlite) run
 * the very same SQL. Constraint and index names are explicit (and match the
 * entities) so later migrations can refer to them.
 */
export class InitialSchema1795888528755 implements MigrationInterface {
  name = 'InitialSchema1795888528755';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE orgs (
        id varchar(32) NOT NULL,
        name varchar(200) NOT NULL,
        max_token_ttl_seconds integer NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_orgs PRIMARY KEY (id),
        CONSTRAINT ck_orgs_max_token_ttl CHECK (max_token_ttl_seconds IS NULL OR max_token_ttl_seconds > 0)
      )`);

    await q.query(`
      CREATE TABLE api_keys (
        id varchar(32) NOT NULL,
        org_id varchar(32) NOT NULL,
        name varchar(200) NOT NULL,
        type varchar(16) NOT NULL,
        key_hash varchar(100) NOT NULL,
        scopes jsonb NOT NULL DEFAULT '[]',
        ip_allowlist jsonb NOT NULL DEFAULT '[]',
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NULL,
        last_used_at timestamptz NULL,
        revoked_at timestamptz NULL,
        CONSTRAINT pk_api_keys PRIMARY KEY (id),
        CONSTRAINT fk_api_keys_org FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE,
        CONSTRAINT ck_api_keys_type CHECK (type IN ('secret', 'restricted'))
      )`);
    await q.query(`CREATE INDEX ix_api_keys_org ON api_keys (org_id)`);

    await q.query(`
      CREATE TABLE signing_keys (
        kid varchar(64) NOT NULL,
        private_jwk_ciphertext text NOT NULL,
        public_jwk jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        retired_at timestamptz NULL,
        not_after timestamptz NULL,
        CONSTRAINT pk_signing_keys PRIMARY KEY (kid)
      )`);

    await q.query(`
      CREATE TABLE issued_tokens (
        id varchar(32) NOT NULL,
        org_id varchar(32) NOT NULL,
        user_id varchar(128) NOT NULL,
        client_id varchar(256) NULL,
        permissions jsonb NOT NULL,
        family_id varchar(32) NOT NULL,
        issued_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz NULL,
        revoke_reason varchar(64) NULL,
        CONSTRAINT pk_issued_tokens PRIMARY KEY (id),
        CONSTRAINT fk_issued_tokens_org FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX ix_issued_tokens_org_user ON issued_tokens (org_id, user_id)`);
    await q.query(`CREATE INDEX ix_issued_tokens_family ON issued_tokens (family_id)`);

    await q.query(`
      CREATE TABLE refresh_tokens (
        id varchar(32) NOT NULL,
        token_hash varchar(64) NOT NULL,
        family_id varchar(32) NOT NULL,
        token_id varchar(32) NOT NULL,
        org_id varchar(32) NOT NULL,
        user_id varchar(128) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz NULL,
        revoked_at timestamptz NULL,
        CONSTRAINT pk_refresh_tokens PRIMARY KEY (id),
        CONSTRAINT uq_refresh_tokens_hash UNIQUE (token_hash),
        CONSTRAINT fk_refresh_tokens_token FOREIGN KEY (token_id) REFERENCES issued_tokens (id) ON DELETE CASCADE,
        CONSTRAINT fk_refresh_tokens_org FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX ix_refresh_tokens_family ON refresh_tokens (family_id)`);
    await q.query(`CREATE INDEX ix_refresh_tokens_org_user ON refresh_tokens (org_id, user_id)`);
    await q.query(`CREATE INDEX ix_refresh_tokens_token ON refresh_tokens (token_id)`);

    await q.query(`
      CREATE TABLE revocations (
        seq bigserial NOT NULL,
        credential_ids jsonb NOT NULL,
        until timestamptz NOT NULL,
        reason varchar(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_revocations PRIMARY KEY (seq)
      )`);
    await q.query(`CREATE INDEX ix_revocations_until ON revocations (until)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE revocations`);
    await q.query(`DROP TABLE refresh_tokens`);
    await q.query(`DROP TABLE issued_tokens`);
    await q.query(`DROP TABLE signing_keys`);
    await q.query(`DROP TABLE api_keys`);
    await q.query(`DROP TABLE orgs`);
  }
}
