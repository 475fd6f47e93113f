import { compareStreamIds, isStreamId } from './stream-id';

describe('compareStreamIds', () => {
  it('orders numerically, not lexically', () => {
    expect(compareStreamIds('9-0', '10-0')).toBe(-1);
    expect(compareStreamIds('10-2', '10-10')).toBe(-1);
    expect(compareStreamIds('10-10', '10-10')).toBe(0);
    expect(compareStreamIds('18446744073709551615-0', '18446744073709551614-9')).toBe(1);
  });
  it('recognises stream ids', () => {
    expect(isStreamId('1700000000000-0')).toBe(true);
    expect(isStreamId('abc')).toBe(false);
    expect(isStreamId(42)).toBe(false);
  });
});
