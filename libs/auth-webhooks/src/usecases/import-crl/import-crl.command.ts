export interface ImportCrlCommand {
  orgId: string;
  caId: string;
  /** PEM (`-----BEGIN X509 CRL-----`). */
  crl: string;
}
