import { decodeKeysetCursor, encodeKeysetCursor, keysetAfter, keysetPage } from './keyset';

describe('keyset pagination', () => {
  const at = new Date('2026-12-01T10:00:00.000Z');

  it('a cursor round-trips to the same position', () => {
    expect(decodeKeysetCursor(encodeKeysetCursor({ at, id: 'k1' }))).toEqual({ at, id: 'k1' });
  });

  it.each(['', 'not-base64!', Buffer.from('[1,2]').toString('base64url'), Buffer.from('["x","a"]').toString('base64url'),
    Buffer.from('["2026-12-01T10:00:00Z",""]').toString('base64url'), Buffer.from('{}').toString('base64url')])(
    'refuses a cursor it did not make (%s)',
    (cursor) => expect(decodeKeysetCursor(cursor)).toBeNull(),
  );

  it('builds the row-value condition for newest-first order', () => {
    expect(keysetAfter('k.created_at', 'k.id', { at, id: 'k1' })).toEqual({
      where: '(k.created_at, k.id) < (:keysetAt, :keysetId)',
      parameters: { keysetAt: at, keysetId: 'k1' },
    });
  });

  it('cuts a page and points the next cursor at its last row', () => {
    const rows = [{ id: 'c' }, { id: 'b' }, { id: 'a' }];
    const page = keysetPage(rows, 2, (row) => ({ at, id: row.id }));
    expect(page.items).toEqual([{ id: 'c' }, { id: 'b' }]);
    expect(decodeKeysetCursor(page.nextCursor ?? '')).toEqual({ at, id: 'b' });
    expect(keysetPage(rows, 3, (row) => ({ at, id: row.id })).nextCursor).toBeNull();
  });
});
