/**
 * IP address arithmetic on bigints, for CIDR checks (API key allowlists, trusted proxies). Inputs are
 * addresses `net.isIP` has accepted; nothing here validates.
 */

/** Bits in an address of each family. */
export const IP_WIDTH = { 4: 32, 6: 128 } as const;

export function v4Value(address: string): bigint {
  return address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

/** The 128-bit value of an IPv6 address (with `::` and an optional dotted IPv4 tail). */
export function v6Value(address: string): bigint {
  let text = address;
  let tail: bigint | null = null;
  // An embedded IPv4 tail (`::ffff:10.0.0.1`) stands for the last two groups.
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tail = v4Value(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, null];
  const headGroups = head ? head.split(':') : [];
  const restGroups = rest ? rest.split(':') : [];
  const missing = 8 - headGroups.length - restGroups.length;
  const groups = rest === null ? headGroups : [...headGroups, ...Array<string>(missing).fill('0'), ...restGroups];
  const value = groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
  return tail === null ? value : (value & ~0xffffffffn) | tail;
}

/** The network mask of a `prefix`-bit block. */
export function prefixMask(family: 4 | 6, prefix: number): bigint {
  const width = BigInt(IP_WIDTH[family]);
  return prefix === 0 ? 0n : ((1n << width) - 1n) ^ ((1n << (width - BigInt(prefix))) - 1n);
}

/** Dotted quad, or RFC 5952 text (the longest run of two or more zero groups becomes `::`). */
export function formatAddress(family: 4 | 6, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((shift) => ((value >> shift) & 0xffffn).toString(16));
  let best = { start: -1, length: 1 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.start === -1) return groups.join(':');
  return `${groups.slice(0, best.start).join(':')}::${groups.slice(best.start + best.length).join(':')}`;
}
