export interface SetCertificateRuleCommand {
  orgId: string;
  identity: string;
  publish: string[];
  subscribe: string[];
  requirePassword: boolean;
}
