import type { ApiKeyPrincipal } from '@signet/api-keys';

/** An IdP token to exchange for `tkn_` credentials. */
export interface ExchangeCommand {
  providerId: string;
  idToken: string;
  ttlSeconds?: number;
  clientId?: string;
  /** Set when a backend exchanged with its own API key: the provider must be in the key's org, and the key must hold what is granted. */
  caller?: ApiKeyPrincipal;
}
