import type { ApiKeyPrincipal } from '@signet/api-keys';

/** POST /v1/tokens, as the caller asked it; the use case checks every field. */
export interface IssueTokenCommand {
  caller: ApiKeyPrincipal;
  userId: string;
  /** Omitted: the default TTL, lowered to the org's cap. */
  ttlSeconds?: number;
  /** Omitted: the default permissions; given: exactly what it lists. */
  permissions?: { publish?: string[]; subscribe?: string[] };
  clientId?: string;
}
