import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** Public members of a JWK (RFC 7517 §4, RFC 7518 §6); never private ones. */
export interface StoredPublicJwk {
  kty: string;
  kid?: string;
  alg?: string;
  use?: string;
  /** RSA modulus and exponent. */
  n?: string;
  e?: string;
  /** EC / OKP curve and coordinates. */
  crv?: string;
  x?: string;
  y?: string;
}

/**
 * An access-token signing key pair. The private JWK is stored encrypted
 * (SecretBox); the public JWK stays published while `retired_at` is null or
 * until `not_after`, when every token it signed has expired.
 */
@Entity({ name: 'signing_keys' })
export class SigningKeyEntity {
  /** RFC 7638 JWK thumbprint of the public key. */
  @PrimaryColumn({ type: 'varchar', length: 64, name: 'kid', primaryKeyConstraintName: 'pk_signing_keys' })
  kid!: string;

  @Column({ type: 'text', name: 'private_jwk_ciphertext' })
  privateJwkCiphertext!: string;

  @Column({ type: 'jsonb', name: 'public_jwk' })
  publicJwk!: StoredPublicJwk;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  /** Set when a newer key took over signing. */
  @Column({ type: 'timestamptz', name: 'retired_at', nullable: true })
  retiredAt!: Date | null;

  /** When the last token this key signed expires: unpublish after. Null while active. */
  @Column({ type: 'timestamptz', name: 'not_after', nullable: true })
  notAfter!: Date | null;
}
