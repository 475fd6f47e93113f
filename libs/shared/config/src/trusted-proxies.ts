import { isIP } from 'node:net';

import { ConfigError } from './env';

const WIDTH = { 4: 32, 6: 128 } as const;

function v4Value(address: string): bigint {
  return address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

/** The 128-bit value of an IPv6 address `isIP` accepted (with `::` and an optional dotted IPv4 tail). */
function v6Value(address: string): bigint {
  let text = address;
  let tail: bigint | null = null;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tail = v4Value(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, null];
  const headGroups = head ? head.split(':') : [];
  const restGroups = rest ? rest.split(':') : [];
  const groups = rest === null ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - restGroups.length).fill('0'), ...restGroups];
  const value = groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
  return tail === null ? value : (value & ~0xffffffffn) | tail;
}

const hostBits = (family: 4 | 6, prefix: number): bigint => (1n << BigInt(WIDTH[family] - prefix)) - 1n;

function format(family: 4 | 6, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((shift) => ((value >> shift) & 0xffffn).toString(16));
  // RFC 5952: the longest run of two or more zero groups becomes `::`.
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

/**
 * Parses the `SIGNET_TRUSTED_PROXIES` list: comma-separated IPv4/IPv6
 * addresses and CIDR blocks (`10.0.0.0/8`, `fd00::/8`, `::ffff:10.0.0.0/104`).
 * Empty entries (a trailing comma) are skipped. Refused, naming `variable`:
 * anything that is not an address or block, zone ids, prefixes longer than the
 * address, a block with host bits set (`10.0.0.1/8`: which was meant?) and a
 * /0 block (it would trust every address, so any client could choose its own).
 */
export function parseTrustedProxies(raw: string | undefined, variable: string): string[] {
  if (raw === undefined) return [];
  const entries: string[] = [];
  for (const part of raw.split(',')) {
    const entry = part.trim();
    if (entry === '') continue;
    const slash = entry.indexOf('/');
    const address = slash === -1 ? entry : entry.slice(0, slash);
    const prefixText = slash === -1 ? null : entry.slice(slash + 1);
    const family = address.includes('%') ? 0 : isIP(address);
    if (family !== 4 && family !== 6) {
      throw new ConfigError(variable, `'${entry}' is not an IPv4/IPv6 address or CIDR block (e.g. 10.0.0.0/8, fd00::/8)`);
    }
    const width = WIDTH[family];
    if (prefixText !== null && !/^(0|[1-9]\d{0,2})$/.test(prefixText)) {
      throw new ConfigError(variable, `'${entry}': the prefix length must be a number from 1 to ${width}`);
    }
    const prefix = prefixText === null ? width : Number(prefixText);
    if (prefix > width) throw new ConfigError(variable, `'${entry}': the prefix length must be a number from 1 to ${width}`);
    if (prefix === 0) {
      throw new ConfigError(variable, `'${entry}' would trust every address, letting any client choose its own; list only your proxies' addresses`);
    }
    const value = family === 4 ? v4Value(address) : v6Value(address);
    if ((value & hostBits(family, prefix)) !== 0n) {
      const network = value & ~hostBits(family, prefix);
      throw new ConfigError(variable, `'${entry}' has host bits set; write the block as ${format(family, network)}/${prefix}, or the address alone`);
    }
    entries.push(entry);
  }
  return entries;
}
