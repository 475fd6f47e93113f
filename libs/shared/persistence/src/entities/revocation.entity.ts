import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The durable revocation log (ARCHITECTURE §6). A row is committed in the
 * same transaction as the `revoked_at` updates it describes, so the bus can
 * always be rebuilt from here; rows stop mattering once `until` has passed.
 */
@Entity({ name: 'revocations' })
@Index('ix_revocations_until', ['until'])
@Index('ix_revocations_created_at', ['createdAt'])
@Index('ix_revocations_unpublished', ['seq'], { where: 'published_at IS NULL' })
export class RevocationEntity {
  /** bigint: node-postgres returns it as a string. */
  @PrimaryGeneratedColumn('increment', { type: 'bigint', name: 'seq', primaryKeyConstraintName: 'pk_revocations' })
  seq!: string;

  /** Token ids (jti) and/or API key ids. */
  @Column({ type: 'jsonb', name: 'credential_ids' })
  credentialIds!: string[];

  /** The latest expiry among the listed credentials: after it the entry is moot. */
  @Column({ type: 'timestamptz', name: 'until' })
  until!: Date;

  @Column({ type: 'varchar', length: 64, name: 'reason' })
  reason!: string;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  /** Null until the entry is on the bus: the rows the outbox relay publishes. */
  @Column({ type: 'timestamptz', name: 'published_at', nullable: true })
  publishedAt!: Date | null;
}
