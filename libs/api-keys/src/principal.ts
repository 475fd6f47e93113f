import type { ApiKeyType, WillPolicy } from '@signet/credentials';

/** Who called, as established from a verified `sk_`/`rk_` key. */
export interface ApiKeyPrincipal {
  keyId: string;
  orgId: string;
  name: string;
  type: ApiKeyType;
  /** Scopes of a restricted key; empty for secret keys, which have full org access. */
  scopes: string[];
  /** IPs/CIDRs the key may be used from; empty = anywhere. A key cannot create one with a wider list. */
  ipAllowlist: string[];
  /** ms epoch; null = never. A key cannot create one that outlives it. */
  expiresAt: number | null;
  /**
   * The org's `will_on_revoke` (org_settings; `suppress` without a row), read
   * with the key: what an MQTT session on this key does with its will when
   * the key is revoked or expires.
   */
  willOnRevoke: WillPolicy;
}
