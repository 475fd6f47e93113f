import type { TokenStatus } from '../../token.repository';

/** GET /v1/tokens: one page of the org's tokens, newest first. */
export interface ListTokensCommand {
  orgId: string;
  userId?: string;
  status?: TokenStatus;
  /** 1 to 100; default 50. */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}
