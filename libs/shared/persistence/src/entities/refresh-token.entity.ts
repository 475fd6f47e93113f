import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, Unique } from 'typeorm';

import { IssuedTokenEntity } from './issued-token.entity';
import { OrgEntity } from './org.entity';

/**
 * A single-use `rt_` refresh token, stored as its SHA-256 (it is 256 random
 * bits, so no slow hash is needed). `used_at` set + presented again = reuse.
 */
@Entity({ name: 'refresh_tokens' })
@Unique('uq_refresh_tokens_hash', ['tokenHash'])
@Index('ix_refresh_tokens_family', ['familyId'])
@Index('ix_refresh_tokens_org_user', ['orgId', 'userId'])
@Index('ix_refresh_tokens_token', ['tokenId'])
/** The retention job finds ended refresh tokens by these (migration TokenRetention1795930000000). */
@Index('ix_refresh_tokens_expires', ['expiresAt'])
@Index('ix_refresh_tokens_revoked', ['revokedAt'])
export class RefreshTokenEntity {
  @PrimaryColumn({ type: 'varchar', length: 32, name: 'id', primaryKeyConstraintName: 'pk_refresh_tokens' })
  id!: string;

  /** Hex SHA-256 of the token string. */
  @Column({ type: 'varchar', length: 64, name: 'token_hash' })
  tokenHash!: string;

  @Column({ type: 'varchar', length: 32, name: 'family_id' })
  familyId!: string;

  /** The access token issued together with this refresh token. */
  @Column({ type: 'varchar', length: 32, name: 'token_id' })
  tokenId!: string;

  @ManyToOne(() => IssuedTokenEntity, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'token_id', foreignKeyConstraintName: 'fk_refresh_tokens_token' })
  token?: IssuedTokenEntity;

  @Column({ type: 'varchar', length: 32, name: 'org_id' })
  orgId!: string;

  @ManyToOne(() => OrgEntity, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'org_id', foreignKeyConstraintName: 'fk_refresh_tokens_org' })
  org?: OrgEntity;

  @Column({ type: 'varchar', length: 128, name: 'user_id' })
  userId!: string;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', name: 'expires_at' })
  expiresAt!: Date;

  @Column({ type: 'timestamptz', name: 'used_at', nullable: true })
  usedAt!: Date | null;

  @Column({ type: 'timestamptz', name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;
}
