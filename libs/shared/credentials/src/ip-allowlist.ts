import { isIP } from 'node:net';

import { addressValue, blockCovers, IpBlock, ipBlockMatcher, parseIpBlock } from '@signet/net';

export const MAX_ALLOWLIST_ENTRIES = 100;

/** An address as (family, value), IPv4-mapped IPv6 folded to IPv4; null when it is not an IP. */
export function parseAddress(input: string): { family: 4 | 6; value: bigint } | null {
  // Zone ids (fe80::1%eth0) say which interface, not which host.
  const address = input.includes('%') ? input.slice(0, input.indexOf('%')) : input;
  const family = isIP(address);
  if (family !== 4 && family !== 6) return null;
  const value = addressValue(address, family);
  if (family === 6 && value >> 32n === 0xffffn) return { family: 4, value: value & 0xffffffffn };
  return { family, value };
}

/** Parses `203.0.113.7`, `10.0.0.0/8`, `2001:db8::/32` or `::ffff:10.0.0.0/104`; null when invalid. */
export function parseCidr(entry: string): IpBlock | null {
  if (typeof entry !== 'string' || entry.length === 0 || entry.length > 64 || entry.trim() !== entry) return null;
  const block = parseIpBlock(entry);
  return 'problem' in block ? null : block;
}

/** Why an allowlist is unusable, or null. */
export function allowlistProblem(entries: readonly unknown[]): string | null {
  if (entries.length > MAX_ALLOWLIST_ENTRIES) return `at most ${MAX_ALLOWLIST_ENTRIES} entries`;
  for (const entry of entries) {
    if (typeof entry !== 'string' || parseCidr(entry) === null) {
      return `'${String(entry).slice(0, 64)}' is not an IPv4/IPv6 address or CIDR block`;
    }
  }
  return null;
}

/** Is the whole block `inner` inside one of `outer`? (For "a key cannot widen its own allowlist".) */
export function cidrCovered(outer: readonly string[], inner: string): boolean {
  const child = parseCidr(inner);
  if (!child) return false;
  return outer.some((o) => {
    const parent = parseCidr(o);
    return parent !== null && blockCovers(parent, child);
  });
}

/**
 * Compiles an allowlist of IPs and CIDR blocks of both families (IPv4-mapped
 * IPv6 included). An empty list allows everyone. Entries are validated when a
 * key is created (400 on a bad one); should an unparsable entry still reach
 * here, it is skipped, so a list holding only bad entries allows nothing:
 * it fails closed.
 */
export function compileAllowlist(entries: readonly string[]): ((ip: string) => boolean) | null {
  if (entries.length === 0) return null;
  return ipBlockMatcher(entries.map(parseCidr).filter((c): c is IpBlock => c !== null));
}
