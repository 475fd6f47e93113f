import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';

import { OrgEntity } from './org.entity';

export interface StoredPermissions {
  publish: string[];
  subscribe: string[];
}

/**
 * Metadata of an issued `tkn_` access token. The token itself is never
 * stored: the edge verifies it by signature; this row is what listing,
 * introspection and revocation work on.
 */
@Entity({ name: 'issued_tokens' })
@Index('ix_issued_tokens_org_user', ['orgId', 'userId'])
@Index('ix_issued_tokens_family', ['familyId'])
/** The retention job finds ended tokens by expiry (migration TokenRetention1795930000000). */
@Index('ix_issued_tokens_expires', ['expiresAt'])
/** IdP sign-out events find the tokens of an IdP session or user (migration IdpEvents1796400000000). */
@Index('ix_issued_tokens_idp_session', ['idpProviderId', 'idpSessionId'])
@Index('ix_issued_tokens_idp_subject', ['idpProviderId', 'idpSubject'])
export class IssuedTokenEntity {
  /** The jti, `tok_…`. */
  @PrimaryColumn({ type: 'varchar', length: 32, name: 'id', primaryKeyConstraintName: 'pk_issued_tokens' })
  id!: string;

  @Column({ type: 'varchar', length: 32, name: 'org_id' })
  orgId!: string;

  @ManyToOne(() => OrgEntity, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'org_id', foreignKeyConstraintName: 'fk_issued_tokens_org' })
  org?: OrgEntity;

  @Column({ type: 'varchar', length: 128, name: 'user_id' })
  userId!: string;

  @Column({ type: 'varchar', length: 256, name: 'client_id', nullable: true })
  clientId!: string | null;

  /** Permission templates as granted (placeholders unexpanded). */
  @Column({ type: 'jsonb', name: 'permissions' })
  permissions!: StoredPermissions;

  /** Every token obtained by refreshing from one original issue shares a family. */
  @Column({ type: 'varchar', length: 32, name: 'family_id' })
  familyId!: string;

  @Column({ type: 'timestamptz', name: 'issued_at' })
  issuedAt!: Date;

  @Column({ type: 'timestamptz', name: 'expires_at' })
  expiresAt!: Date;

  @Column({ type: 'timestamptz', name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;

  @Column({ type: 'varchar', length: 64, name: 'revoke_reason', nullable: true })
  revokeReason!: string | null;

  /** The IdP provider the token was exchanged from; null when an API key issued it. */
  @Column({ type: 'varchar', length: 32, name: 'idp_provider_id', nullable: true })
  idpProviderId!: string | null;

  /** The IdP session (Supabase `session_id`, OIDC `sid`) it came from, when the IdP token named one. */
  @Column({ type: 'varchar', length: 256, name: 'idp_session_id', nullable: true })
  idpSessionId!: string | null;

  /** The IdP user (`sub`) it came from. */
  @Column({ type: 'varchar', length: 256, name: 'idp_subject', nullable: true })
  idpSubject!: string | null;
}
