import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';

import { OrgEntity } from './org.entity';

/** A person who signs in (browser, CLI): separate from API keys and from the MQTT users an org issues tokens for. */
@Entity({ name: 'accounts' })
@Check('ck_accounts_role', "role IN ('owner', 'admin', 'viewer')")
@Index('uq_accounts_username', ['username'], { unique: true })
@Index('ix_accounts_org', ['orgId'])
export class AccountEntity {
  @PrimaryColumn({ type: 'varchar', length: 32, primaryKeyConstraintName: 'pk_accounts' })
  id!: string;

  @Column({ type: 'varchar', length: 32, name: 'org_id' })
  orgId!: string;

  @ManyToOne(() => OrgEntity, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'org_id', foreignKeyConstraintName: 'fk_accounts_org' })
  org?: OrgEntity;

  @Column({ type: 'varchar', length: 64 })
  username!: string;

  /** argon2id PHC string; null for an account made by SSO sign-in (it has no password). */
  @Column({ type: 'text', name: 'password_hash', nullable: true })
  passwordHash!: string | null;

  @Column({ type: 'varchar', length: 16 })
  role!: 'owner' | 'admin' | 'viewer';

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;
}

/** The one-time code that creates an org's first (owner) account; only its SHA-256 is kept. */
@Entity({ name: 'account_signup_codes' })
export class AccountSignupCodeEntity {
  @PrimaryColumn({ type: 'varchar', length: 32, name: 'org_id', primaryKeyConstraintName: 'pk_account_signup_codes' })
  orgId!: string;

  @ManyToOne(() => OrgEntity, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'org_id', foreignKeyConstraintName: 'fk_account_signup_codes_org' })
  org?: OrgEntity;

  @Index('uq_account_signup_codes_hash', { unique: true })
  @Column({ type: 'varchar', length: 64, name: 'code_hash' })
  codeHash!: string;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;
}

/** The authorization server's state (oidc-provider models: sessions, grants, codes, tokens…), one row per model instance. */
@Entity({ name: 'oidc_payloads' })
@Index('ix_oidc_payloads_grant', ['grantId'])
@Index('ix_oidc_payloads_user_code', ['userCode'])
@Index('ix_oidc_payloads_uid', ['uid'])
@Index('ix_oidc_payloads_expires_at', ['expiresAt'])
export class OidcPayloadEntity {
  @PrimaryColumn({ type: 'varchar', length: 64, primaryKeyConstraintName: 'pk_oidc_payloads' })
  kind!: string;

  @PrimaryColumn({ type: 'varchar', length: 255, primaryKeyConstraintName: 'pk_oidc_payloads' })
  id!: string;

  @Column({ type: 'jsonb' })
  payload!: Record<string, unknown>;

  @Column({ type: 'varchar', length: 255, name: 'grant_id', nullable: true })
  grantId!: string | null;

  @Column({ type: 'varchar', length: 255, name: 'user_code', nullable: true })
  userCode!: string | null;

  @Column({ type: 'varchar', length: 255, nullable: true })
  uid!: string | null;

  @Column({ type: 'timestamptz', name: 'expires_at', nullable: true })
  expiresAt!: Date | null;
}
