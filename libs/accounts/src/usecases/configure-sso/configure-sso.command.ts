/** An org's SSO provider as its owner or admin gives it (PUT /v1/sso). */
export interface ConfigureSsoCommand {
  orgId: string;
  name: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  allowedDomains: string[];
  /** 'admin' | 'viewer', or null for existing accounts only. */
  defaultRole: string | null;
  linkByEmail: boolean;
}
