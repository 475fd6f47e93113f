/**
 * Orders Redis stream ids (`<ms>-<seq>`). String comparison is wrong for them
 * ("9-0" > "10-0"), and the ms part can exceed 2^53 in principle, so BigInt.
 */
export function compareStreamIds(a: string, b: string): number {
  const [aMs, aSeq] = splitId(a);
  const [bMs, bSeq] = splitId(b);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  if (aSeq !== bSeq) return aSeq < bSeq ? -1 : 1;
  return 0;
}

export function isStreamId(value: unknown): value is string {
  return typeof value === 'string' && /^\d+-\d+$/.test(value);
}

function splitId(id: string): [bigint, bigint] {
  const dash = id.indexOf('-');
  if (dash < 0) return [BigInt(id), 0n];
  return [BigInt(id.slice(0, dash)), BigInt(id.slice(dash + 1))];
}
