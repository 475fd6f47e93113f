/** How a verified client certificate names its MQTT identity (the `<user_id>` of a session). */
export const CERTIFICATE_IDENTITY_SOURCES = ['cn', 'san_uri', 'san_dns', 'san_email', 'fingerprint'] as const;
export type CertificateIdentitySource = (typeof CERTIFICATE_IDENTITY_SOURCES)[number];

/** One org's CA bundle and the status of the certificates it issued, as edges hold it. */
export interface TrustedAuthority {
  id: string;
  orgId: string;
  /** The CA and any intermediates, PEM. */
  pem: string;
  /** False: only `registered` fingerprints connect. */
  allowAny: boolean;
  /** SHA-256 fingerprints (lower-case hex) of registered certificates. */
  registered: string[];
  /** Upper-case hex serials revoked through the API or listed by the CA's CRL. */
  revokedSerials: string[];
  revokedFingerprints: string[];
}

/** An org's mapping of a certificate to an identity and permissions (templates). */
export interface CertificateRule {
  orgId: string;
  identity: CertificateIdentitySource;
  publish: string[];
  subscribe: string[];
  /** The certificate alone is not enough: a password credential of the same identity must also be valid. */
  requirePassword: boolean;
}

/** Every org's certificate trust: what an edge verifies client certificates with. */
export interface TrustSnapshot {
  /** Changes whenever anything in it changes. */
  version: string;
  authorities: TrustedAuthority[];
  rules: CertificateRule[];
}

/** Where an edge reads the trust snapshot: in-process in the all-in-one, gRPC otherwise. */
export interface TrustStoreSource {
  trustStore(): Promise<TrustSnapshot>;
}

export const EMPTY_TRUST: TrustSnapshot = Object.freeze({ version: 'empty', authorities: [], rules: [] }) as TrustSnapshot;
