import type { ApiKeyPrincipal } from '../../principal';

export interface ListKeysCommand {
  caller: ApiKeyPrincipal;
  limit: number;
  /** `next_cursor` of the previous page. */
  cursor?: string;
}
