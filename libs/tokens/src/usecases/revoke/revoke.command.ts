import type { ApiKeyPrincipal } from '@signet/api-keys';

/** DELETE /v1/tokens/{token_id}: one token of the caller's org. */
export interface RevokeTokenCommand {
  caller: ApiKeyPrincipal;
  tokenId: string;
}

/** POST /v1/users/{user_id}/revoke: every live token of one user of the caller's org. */
export interface RevokeUserTokensCommand {
  caller: ApiKeyPrincipal;
  userId: string;
}
