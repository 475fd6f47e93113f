import { Check, Column, Entity, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';

import type { WillPolicy } from '@signet/credentials';

import { OrgEntity } from './org.entity';

/**
 * An org's settings, one row per org once any is changed; an org without a
 * row has the defaults (the column defaults below).
 */
@Entity({ name: 'org_settings' })
@Check('ck_org_settings_will_on_revoke', "will_on_revoke IN ('suppress', 'publish')")
export class OrgSettingsEntity {
  @PrimaryColumn({ type: 'varchar', length: 32, name: 'org_id', primaryKeyConstraintName: 'pk_org_settings' })
  orgId!: string;

  @ManyToOne(() => OrgEntity, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'org_id', foreignKeyConstraintName: 'fk_org_settings_org' })
  org?: OrgEntity;

  /**
   * Whether the will of a session goes out when its credential is revoked or
   * expires. Carried into `tkn_` tokens at issue (claim `will`), so it applies
   * to tokens issued, refreshed or exchanged after a change; read with the key
   * when an API key is verified (LEFT JOIN), so it applies to key verdicts
   * fetched after a change.
   */
  @Column({ type: 'varchar', length: 16, name: 'will_on_revoke', default: 'suppress' })
  willOnRevoke!: WillPolicy;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updatedAt!: Date;
}
