import { IP_WIDTH, IpBlock } from './block';

/*
 * Address values as bigints, for what node:net cannot do: name a block's
 * network (the SIGNET_TRUSTED_PROXIES hint for an entry with host bits set)
 * and key an address by its value (per-/64 rate limits). Matching against
 * blocks is BlockList's job (block.ts). Inputs are addresses node:net has
 * accepted, so nothing here validates.
 */

function v4Value(address: string): bigint {
  return address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

/** The 128-bit value of an IPv6 address (with `::` and an optional dotted IPv4 tail). */
function v6Value(address: string): bigint {
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

/** The numeric value of an address `net.isIP` said is of `family`. */
export function addressValue(address: string, family: 4 | 6): bigint {
  return family === 4 ? v4Value(address) : v6Value(address);
}

function prefixMask(family: 4 | 6, prefix: number): bigint {
  const width = BigInt(IP_WIDTH[family]);
  return prefix === 0 ? 0n : ((1n << width) - 1n) ^ ((1n << (width - BigInt(prefix))) - 1n);
}

/** Dotted quad, or RFC 5952 text (the longest run of two or more zero groups becomes `::`). */
function formatAddress(family: 4 | 6, value: bigint): string {
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

/** The block's network address (host bits cleared), or null when the written address is already it. */
export function hostBitsCleared(block: IpBlock): string | null {
  const value = addressValue(block.address, block.family);
  const network = value & prefixMask(block.family, block.prefix);
  return network === value ? null : formatAddress(block.family, network);
}
