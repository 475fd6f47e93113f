import { Check, Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A tenant. Every other row belongs to exactly one org (ARCHITECTURE §3). */
@Entity({ name: 'orgs' })
@Check('ck_orgs_max_token_ttl', 'max_token_ttl_seconds IS NULL OR max_token_ttl_seconds > 0')
export class OrgEntity {
  /** `org_` + 12 base36 characters. */
  @PrimaryColumn({ type: 'varchar', length: 32, name: 'id', primaryKeyConstraintName: 'pk_orgs' })
  id!: string;

  @Column({ type: 'varchar', length: 200, name: 'name' })
  name!: string;

  /** Per-org cap on access token TTLs; null → only the process-wide cap applies. */
  @Column({ type: 'integer', name: 'max_token_ttl_seconds', nullable: true })
  maxTokenTtlSeconds!: number | null;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;
}
