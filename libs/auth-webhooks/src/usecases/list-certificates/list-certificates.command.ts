export interface ListCertificatesCommand {
  orgId: string;
  caId: string;
  limit: number;
  cursor?: string;
}
