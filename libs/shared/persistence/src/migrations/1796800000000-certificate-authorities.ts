import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * mTLS: an org's client-certificate CAs (with the CRL imported for each), the
 * certificates registered with or revoked from them, and the org's rule that
 * maps a certificate to an identity and permissions.
 */
export class CertificateAuthorities1796800000000 implements MigrationInterface {
  name = 'CertificateAuthorities1796800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE certificate_authorities (
        id varchar(32) NOT NULL,
        org_id varchar(32) NOT NULL,
        name varchar(200) NOT NULL,
        pem text NOT NULL,
        fingerprint char(64) NOT NULL,
        subject text NOT NULL,
        not_after timestamptz NOT NULL,
        allow_any boolean NOT NULL DEFAULT true,
        crl_pem text,
        crl_serials text[] NOT NULL DEFAULT '{}',
        crl_this_update timestamptz,
        crl_next_update timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_certificate_authorities PRIMARY KEY (id),
        CONSTRAINT fk_certificate_authorities_org FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE,
        CONSTRAINT uq_certificate_authorities_org_fingerprint UNIQUE (org_id, fingerprint)
      )`);
    await q.query(`
      CREATE TABLE client_certificates (
        id varchar(32) NOT NULL,
        ca_id varchar(32) NOT NULL,
        org_id varchar(32) NOT NULL,
        fingerprint char(64),
        serial varchar(64),
        subject text,
        not_after timestamptz,
        status varchar(16) NOT NULL,
        revoked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_client_certificates PRIMARY KEY (id),
        CONSTRAINT fk_client_certificates_ca FOREIGN KEY (ca_id) REFERENCES certificate_authorities (id) ON DELETE CASCADE,
        CONSTRAINT ck_client_certificates_status CHECK (status IN ('registered', 'revoked')),
        CONSTRAINT ck_client_certificates_named CHECK (fingerprint IS NOT NULL OR serial IS NOT NULL)
      )`);
    await q.query(`CREATE INDEX ix_client_certificates_ca ON client_certificates (ca_id, created_at, id)`);
    await q.query(`
      CREATE TABLE certificate_rules (
        org_id varchar(32) NOT NULL,
        identity varchar(16) NOT NULL,
        publish text[] NOT NULL,
        subscribe text[] NOT NULL,
        require_password boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_certificate_rules PRIMARY KEY (org_id),
        CONSTRAINT fk_certificate_rules_org FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE,
        CONSTRAINT ck_certificate_rules_identity CHECK (identity IN ('cn', 'san_uri', 'san_dns', 'san_email', 'fingerprint'))
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE certificate_rules`);
    await q.query(`DROP TABLE client_certificates`);
    await q.query(`DROP TABLE certificate_authorities`);
  }
}
