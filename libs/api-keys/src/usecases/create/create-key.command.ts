import type { ApiKeyType } from '@signet/credentials';

import type { ApiKeyPrincipal } from '../../principal';

export interface CreateKeyCommand {
  caller: ApiKeyPrincipal;
  name: string;
  type: ApiKeyType;
  scopes?: string[];
  /** Omitted: inherited from a restricted caller, else anywhere. */
  ipAllowlist?: string[];
  /** ISO 8601; omitted: inherited from a restricted caller, else never. */
  expiresAt?: string;
}
