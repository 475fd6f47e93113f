import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';

import { OrgEntity } from './org.entity';

export type ApiKeyKind = 'secret' | 'restricted';

/**
 * An `sk_`/`rk_` key. Only its bcrypt hash is stored; `id` is the key id
 * embedded in the key string, so verification is one primary-key lookup.
 */
@Entity({ name: 'api_keys' })
@Check('ck_api_keys_type', "type IN ('secret', 'restricted')")
@Index('ix_api_keys_org', ['orgId'])
@Index('ix_api_keys_expires', ['expiresAt'])
export class ApiKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 32, name: 'id', primaryKeyConstraintName: 'pk_api_keys' })
  id!: string;

  @Column({ type: 'varchar', length: 32, name: 'org_id' })
  orgId!: string;

  @ManyToOne(() => OrgEntity, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'org_id', foreignKeyConstraintName: 'fk_api_keys_org' })
  org?: OrgEntity;

  @Column({ type: 'varchar', length: 200, name: 'name' })
  name!: string;

  @Column({ type: 'varchar', length: 16, name: 'type' })
  type!: ApiKeyKind;

  /** bcrypt hash of the whole key string. */
  @Column({ type: 'varchar', length: 100, name: 'key_hash' })
  keyHash!: string;

  /** Scopes of a restricted key, e.g. `tokens:write`; empty for secret keys (full access). */
  @Column({ type: 'jsonb', name: 'scopes', default: () => "'[]'" })
  scopes!: string[];

  /** IPs or CIDR blocks the key may be used from; empty → anywhere. */
  @Column({ type: 'jsonb', name: 'ip_allowlist', default: () => "'[]'" })
  ipAllowlist!: string[];

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', name: 'expires_at', nullable: true })
  expiresAt!: Date | null;

  @Column({ type: 'timestamptz', name: 'last_used_at', nullable: true })
  lastUsedAt!: Date | null;

  @Column({ type: 'timestamptz', name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;

  /** The key this one replaced by rotation. */
  @Column({ type: 'varchar', length: 32, name: 'rotated_from', nullable: true })
  rotatedFrom!: string | null;

  /** The key that replaced this one; this one then expires at the end of the grace period. */
  @Column({ type: 'varchar', length: 32, name: 'replaced_by', nullable: true })
  replacedBy!: string | null;

  /**
   * Set once `expires_at` has passed and a revocation was published for it, so
   * live MQTT sessions and caches learn of the expiry (a rotation's grace end).
   */
  @Column({ type: 'timestamptz', name: 'expiry_enforced_at', nullable: true })
  expiryEnforcedAt!: Date | null;
}
