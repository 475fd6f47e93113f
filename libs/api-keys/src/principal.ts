import type { ApiKeyType } from '@signet/credentials';

/** Who called, as established from a verified `sk_`/`rk_` key. */
export interface ApiKeyPrincipal {
  keyId: string;
  orgId: string;
  name: string;
  type: ApiKeyType;
  /** Scopes of a restricted key; empty for secret keys, which have full org access. */
  scopes: string[];
}
