export interface RegisterCertificateCommand {
  orgId: string;
  caId: string;
  pem: string;
}
