import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Directory sync (libs/directory): per-org directory settings (the SCIM bearer
 * token's hash, the unknown-user policy), directory users and groups, and
 * group memberships, and per-org LDAP connections. A group's publish/subscribe filters are what its members'
 * tokens may carry.
 */
export class Directory1796200000000 implements MigrationInterface {
  name = 'Directory1796200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE directory_settings (
        org_id varchar(32) NOT NULL,
        scim_token_hash varchar(64),
        unknown_users varchar(16) NOT NULL DEFAULT 'refuse',
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_directory_settings PRIMARY KEY (org_id),
        CONSTRAINT fk_directory_settings_org FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE,
        CONSTRAINT ck_directory_settings_unknown_users CHECK (unknown_users IN ('refuse', 'allow'))
      )`);
    await q.query(`CREATE UNIQUE INDEX uq_directory_settings_scim_token ON directory_settings (scim_token_hash) WHERE scim_token_hash IS NOT NULL`);
    await q.query(`
      CREATE TABLE directory_users (
        id uuid NOT NULL,
        org_id varchar(32) NOT NULL,
        external_id varchar(256),
        user_name varchar(256) NOT NULL,
        display_name varchar(256),
        name jsonb,
        emails jsonb NOT NULL DEFAULT '[]',
        active boolean NOT NULL DEFAULT true,
        source varchar(8) NOT NULL DEFAULT 'scim',
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_directory_users PRIMARY KEY (id),
        CONSTRAINT fk_directory_users_org FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE
      )`);
    // SCIM userName is caseExact false (RFC 7643 §4.1.1): unique regardless of case.
    await q.query(`CREATE UNIQUE INDEX uq_directory_users_user_name ON directory_users (org_id, lower(user_name))`);
    await q.query(`CREATE INDEX ix_directory_users_external_id ON directory_users (org_id, external_id)`);
    await q.query(`
      CREATE TABLE directory_groups (
        id uuid NOT NULL,
        org_id varchar(32) NOT NULL,
        external_id varchar(256),
        display_name varchar(256) NOT NULL,
        publish jsonb NOT NULL DEFAULT '[]',
        subscribe jsonb NOT NULL DEFAULT '[]',
        source varchar(8) NOT NULL DEFAULT 'scim',
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_directory_groups PRIMARY KEY (id),
        CONSTRAINT fk_directory_groups_org FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX ix_directory_groups_org ON directory_groups (org_id, display_name)`);
    await q.query(`
      CREATE TABLE directory_memberships (
        group_id uuid NOT NULL,
        user_id uuid NOT NULL,
        CONSTRAINT pk_directory_memberships PRIMARY KEY (group_id, user_id),
        CONSTRAINT fk_directory_memberships_group FOREIGN KEY (group_id) REFERENCES directory_groups (id) ON DELETE CASCADE,
        CONSTRAINT fk_directory_memberships_user FOREIGN KEY (user_id) REFERENCES directory_users (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX ix_directory_memberships_user ON directory_memberships (user_id)`);
    // One LDAP connection per org; bind_password is sealed with the master key (SecretBox).
    await q.query(`
      CREATE TABLE directory_ldap_connections (
        org_id varchar(32) NOT NULL,
        url varchar(512) NOT NULL,
        bind_dn varchar(512) NOT NULL,
        bind_password text NOT NULL,
        base_dn varchar(512) NOT NULL,
        user_filter varchar(1024) NOT NULL,
        group_filter varchar(1024) NOT NULL,
        disabled_filter varchar(1024),
        user_name_attribute varchar(64) NOT NULL DEFAULT 'uid',
        tls_ca text,
        allow_plain boolean NOT NULL DEFAULT false,
        max_disable_share real NOT NULL DEFAULT 0.2,
        last_sync jsonb,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_directory_ldap_connections PRIMARY KEY (org_id),
        CONSTRAINT fk_directory_ldap_connections_org FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE directory_ldap_connections`);
    await q.query(`DROP TABLE directory_memberships`);
    await q.query(`DROP TABLE directory_groups`);
    await q.query(`DROP TABLE directory_users`);
    await q.query(`DROP TABLE directory_settings`);
  }
}
