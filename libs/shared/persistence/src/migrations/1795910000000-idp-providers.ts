import { MigrationInterface, QueryRunner } from 'typeorm';

/** Identity providers (Supabase, Firebase, Auth0, Clerk, OIDC, JWT) whose tokens an org exchanges for MQTT credentials. */
export class IdpProviders1795910000000 implements MigrationInterface {
  name = 'IdpProviders1795910000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE idp_providers (
        id varchar(32) NOT NULL,
        org_id varchar(32) NOT NULL,
        name varchar(200) NOT NULL,
        kind varchar(16) NOT NULL,
        settings jsonb NOT NULL,
        secret_ciphertext text NULL,
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_idp_providers PRIMARY KEY (id),
        CONSTRAINT fk_idp_providers_org FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE,
        CONSTRAINT ck_idp_providers_kind CHECK (kind IN ('supabase', 'firebase', 'auth0', 'clerk', 'oidc', 'jwt'))
      )`);
    await q.query(`CREATE INDEX ix_idp_providers_org ON idp_providers (org_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idp_providers`);
  }
}
