import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';

import { IdpProviderEntity } from './idp-provider.entity';

/**
 * An IdP event Signet acted on (a sign-out, a deleted or banned user): the
 * audit of what revoked which tokens, and the replay guard (one row per
 * provider and event id; the same event again answers the same, a different
 * event under a used id is refused).
 */
@Entity({ name: 'idp_events' })
@Index('ix_idp_events_received', ['receivedAt'])
export class IdpEventEntity {
  @PrimaryColumn({ type: 'varchar', length: 32, name: 'provider_id', primaryKeyConstraintName: 'pk_idp_events' })
  providerId!: string;

  /** The IdP's id for the event (logout token jti, webhook-id), or one derived from the payload. */
  @PrimaryColumn({ type: 'varchar', length: 256, name: 'event_id', primaryKeyConstraintName: 'pk_idp_events' })
  eventId!: string;

  @ManyToOne(() => IdpProviderEntity, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'provider_id', foreignKeyConstraintName: 'fk_idp_events_provider' })
  provider?: IdpProviderEntity;

  /** SHA-256 (hex) of the event as received: tells a replay from a different event reusing the id. */
  @Column({ type: 'varchar', length: 64, name: 'digest' })
  digest!: string;

  @Column({ type: 'varchar', length: 32, name: 'org_id' })
  orgId!: string;

  /** 'supabase_webhook', 'backchannel_logout', 'signed_call'. */
  @Column({ type: 'varchar', length: 32, name: 'source' })
  source!: string;

  /** 'revoke_session', 'revoke_user', 'ignored'. */
  @Column({ type: 'varchar', length: 32, name: 'action' })
  action!: string;

  @Column({ type: 'varchar', length: 256, name: 'idp_subject', nullable: true })
  idpSubject!: string | null;

  @Column({ type: 'varchar', length: 256, name: 'idp_session_id', nullable: true })
  idpSessionId!: string | null;

  @Column({ type: 'integer', name: 'revoked_tokens' })
  revokedTokens!: number;

  @Column({ type: 'timestamptz', name: 'received_at', default: () => 'now()' })
  receivedAt!: Date;
}
