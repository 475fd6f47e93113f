export interface RevokeCertificateCommand {
  orgId: string;
  caId: string;
  /** Exactly one of the two. */
  serial?: string;
  fingerprint?: string;
}
