import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * LDAP connections: the directory's flavour (Active Directory or other LDAP),
 * StartTLS, and where the last sync left off (AD: the domain controller's
 * invocationId and highestCommittedUSN; other LDAP: the newest modifyTimestamp
 * seen) for incremental syncs. Plain ldap:// is now the operator's decision
 * (SIGNET_LDAP_ALLOW_PLAIN), no longer a per-connection flag.
 */
export class DirectoryLdapIncremental1797100000000 implements MigrationInterface {
  name = 'DirectoryLdapIncremental1797100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE directory_ldap_connections ADD COLUMN flavor varchar(16) NOT NULL DEFAULT 'ldap'`);
    await q.query(`ALTER TABLE directory_ldap_connections ADD COLUMN starttls boolean NOT NULL DEFAULT false`);
    await q.query(`ALTER TABLE directory_ldap_connections ADD COLUMN sync_cursor jsonb`);
    await q.query(`ALTER TABLE directory_ldap_connections ADD COLUMN last_full_sync_at timestamptz`);
    await q.query(`ALTER TABLE directory_ldap_connections DROP COLUMN allow_plain`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE directory_ldap_connections ADD COLUMN allow_plain boolean NOT NULL DEFAULT false`);
    await q.query(`ALTER TABLE directory_ldap_connections DROP COLUMN last_full_sync_at`);
    await q.query(`ALTER TABLE directory_ldap_connections DROP COLUMN sync_cursor`);
    await q.query(`ALTER TABLE directory_ldap_connections DROP COLUMN starttls`);
    await q.query(`ALTER TABLE directory_ldap_connections DROP COLUMN flavor`);
  }
}
