import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';

import { ApiKeyEntity } from './api-key.entity';

/**
 * Usage of one API key during one hour (UTC). Processes count in memory and
 * add their counts here with `INSERT … ON CONFLICT DO UPDATE SET x = x + …`,
 * so replicas and edges never overwrite each other. bigint columns come back
 * from node-postgres as strings.
 */
@Entity({ name: 'api_key_usage' })
export class ApiKeyUsageEntity {
  @PrimaryColumn({ type: 'varchar', length: 32, name: 'key_id', primaryKeyConstraintName: 'pk_api_key_usage' })
  keyId!: string;

  @PrimaryColumn({ type: 'timestamptz', name: 'bucket_start', primaryKeyConstraintName: 'pk_api_key_usage' })
  bucketStart!: Date;

  @ManyToOne(() => ApiKeyEntity, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'key_id', foreignKeyConstraintName: 'fk_api_key_usage_key' })
  key?: ApiKeyEntity;

  @Column({ type: 'bigint', name: 'api_calls' })
  apiCalls!: string;

  @Column({ type: 'bigint', name: 'mqtt_connects' })
  mqttConnects!: string;

  @Column({ type: 'bigint', name: 'messages_published' })
  messagesPublished!: string;

  @Column({ type: 'bigint', name: 'bytes_published' })
  bytesPublished!: string;

  @Column({ type: 'bigint', name: 'denials' })
  denials!: string;
}
