import type { SsoConnection } from '../../sso/sso.repository';

/** An org's SSO provider as its owner or admin gives it (PUT /v1/sso); the role is checked by the use case. */
export interface ConfigureSsoCommand extends Pick<SsoConnection, 'orgId' | 'name' | 'issuer' | 'clientId' | 'clientSecret' | 'allowedDomains' | 'linkByEmail'> {
  /** 'admin' | 'viewer', or null for existing accounts only. */
  defaultRole: string | null;
}
