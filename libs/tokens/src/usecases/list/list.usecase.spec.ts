import { encodeKeysetCursor } from '@signet/persistence';

import { InMemoryTokenRepository, principal, TEST_TOKENS_OPTIONS, testIssuer } from '../../testing';
import { IssueTokenUseCase } from '../issue/issue.usecase';
import { ListTokensUseCase } from './list.usecase';

describe('ListTokensUseCase (through the repository fake)', () => {
  it('pages newest first with the shared keyset cursor, and refuses other cursors', async () => {
    const tokens = new InMemoryTokenRepository();
    tokens.addOrg({ id: 'org_a', maxTokenTtlSeconds: null });
    const issue = new IssueTokenUseCase(TEST_TOKENS_OPTIONS, await testIssuer(tokens));
    const issued: string[] = [];
    for (let i = 0; i < 5; i++) issued.push((await issue.execute({ caller: principal('org_a'), userId: 'u' })).tokenId);
    const list = new ListTokensUseCase(tokens);

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await list.execute({ orgId: 'org_a', userId: 'u', limit: 2, cursor });
      expect(page.tokens.length).toBeLessThanOrEqual(2);
      seen.push(...page.tokens.map((t) => t.token.id));
      expect(page.tokens.every((t) => t.status === 'active')).toBe(true);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen.sort()).toEqual([...issued].sort());

    const oldest = tokens.token(issued[0])!;
    const afterOldest = await list.execute({ orgId: 'org_a', cursor: encodeKeysetCursor({ at: oldest.issuedAt, id: oldest.id }) });
    // Strictly after the cursor's (issued_at, id), newest first.
    for (const { token } of afterOldest.tokens) {
      expect(token.issuedAt < oldest.issuedAt || (token.issuedAt.getTime() === oldest.issuedAt.getTime() && token.id < oldest.id)).toBe(true);
    }
    await expect(list.execute({ orgId: 'org_a', cursor: 'bm9wZQ' })).rejects.toMatchObject({ status: 400, code: 'invalid_cursor' });
    await expect(list.execute({ orgId: 'org_a', userId: '+' })).rejects.toMatchObject({ code: 'invalid_user_id' });
  });
});
