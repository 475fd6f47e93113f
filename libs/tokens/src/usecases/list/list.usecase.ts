import { Inject, Injectable } from '@nestjs/common';

import { keysetRequest } from '@signet/http';
import { keysetPage } from '@signet/persistence';

import { checkUserId } from '../../token-policy';
import { TOKEN_REPOSITORY, TokenRecord, TokenRepository, TokenStatus } from '../../token.repository';
import type { ListTokensCommand } from './list.command';

export interface ListedToken {
  token: TokenRecord;
  status: TokenStatus;
}

export interface TokenPage {
  tokens: ListedToken[];
  /** Null on the last page. */
  nextCursor: string | null;
}

const DEFAULT_PAGE = 50;
const MAX_PAGE = 100;

/** GET /v1/tokens: metadata only, never a secret; keyset-paginated on (issued_at, id) so pages stay stable while tokens are issued. */
@Injectable()
export class ListTokensUseCase {
  constructor(@Inject(TOKEN_REPOSITORY) private readonly tokens: TokenRepository) {}

  async execute(command: ListTokensCommand): Promise<TokenPage> {
    const userId = command.userId === undefined ? undefined : checkUserId(command.userId);
    const { limit, after } = keysetRequest(command.limit, command.cursor, { fallback: DEFAULT_PAGE, max: MAX_PAGE });
    const rows = await this.tokens.list({ orgId: command.orgId, userId, status: command.status, after, limit: limit + 1 });
    const page = keysetPage(rows, limit, (row) => ({ at: row.issuedAt, id: row.id }));
    const now = Date.now();
    return { tokens: page.items.map((token) => ({ token, status: tokenStatus(token, now) })), nextCursor: page.nextCursor };
  }
}

export const tokenStatus = (token: TokenRecord, nowMs: number): TokenStatus =>
  token.revokedAt !== null ? 'revoked' : token.expiresAt.getTime() <= nowMs ? 'expired' : 'active';
