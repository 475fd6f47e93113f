import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';

import { OrgEntity } from './org.entity';

export type IdpProviderKind = 'supabase' | 'firebase' | 'auth0' | 'clerk' | 'oidc' | 'jwt';

/**
 * An identity provider whose tokens an org accepts in exchange for `tkn_`
 * credentials. `settings` holds everything that is not secret (URLs,
 * audiences, algorithms, claim mapping) in the API's own snake_case shape;
 * a shared secret (Supabase's legacy JWT secret, a `jwt` provider's HMAC
 * secret) is only ever stored sealed by the SecretBox.
 */
@Entity({ name: 'idp_providers' })
@Check('ck_idp_providers_kind', "kind IN ('supabase', 'firebase', 'auth0', 'clerk', 'oidc', 'jwt')")
@Index('ix_idp_providers_org', ['orgId'])
export class IdpProviderEntity {
  /** `idp_` + 24 hex characters. */
  @PrimaryColumn({ type: 'varchar', length: 32, name: 'id', primaryKeyConstraintName: 'pk_idp_providers' })
  id!: string;

  @Column({ type: 'varchar', length: 32, name: 'org_id' })
  orgId!: string;

  @ManyToOne(() => OrgEntity, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'org_id', foreignKeyConstraintName: 'fk_idp_providers_org' })
  org?: OrgEntity;

  @Column({ type: 'varchar', length: 200, name: 'name' })
  name!: string;

  @Column({ type: 'varchar', length: 16, name: 'kind' })
  kind!: IdpProviderKind;

  /** Non-secret settings and claim mapping, as accepted by the API. */
  @Column({ type: 'jsonb', name: 'settings' })
  settings!: Record<string, unknown>;

  /** SecretBox ciphertext of the shared secret, bound to the provider id; null when there is none. */
  @Column({ type: 'text', name: 'secret_ciphertext', nullable: true })
  secretCiphertext!: string | null;

  /** SecretBox ciphertext of the secret that authenticates the provider's sign-out events (/v1/idp-events); null: none set. */
  @Column({ type: 'text', name: 'events_secret_ciphertext', nullable: true })
  eventsSecretCiphertext!: string | null;

  /** A disabled provider refuses every exchange; its settings are kept. */
  @Column({ type: 'boolean', name: 'enabled', default: true })
  enabled!: boolean;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updatedAt!: Date;
}
