import { isIP } from 'node:net';

import { IP_WIDTH, prefixMask, v4Value, v6Value } from '@signet/net';

/** One allowlist entry, normalised: IPv4-mapped IPv6 blocks become IPv4 ones. */
export interface Cidr {
  family: 4 | 6;
  /** Network address with host bits cleared. */
  network: bigint;
  prefix: number;
}

export const MAX_ALLOWLIST_ENTRIES = 100;

/** An address as (family, value), IPv4-mapped IPv6 folded to IPv4; null when it is not an IP. */
export function parseAddress(input: string): { family: 4 | 6; value: bigint } | null {
  // Zone ids (fe80::1%eth0) say which interface, not which host.
  const address = input.includes('%') ? input.slice(0, input.indexOf('%')) : input;
  const family = isIP(address);
  if (family === 4) return { family: 4, value: v4Value(address) };
  if (family !== 6) return null;
  const value = v6Value(address);
  if (value >> 32n === 0xffffn) return { family: 4, value: value & 0xffffffffn };
  return { family: 6, value };
}

/** Parses `203.0.113.7`, `10.0.0.0/8`, `2001:db8::/32` or `::ffff:10.0.0.0/104`; null when invalid. */
export function parseCidr(entry: string): Cidr | null {
  if (typeof entry !== 'string' || entry.length === 0 || entry.length > 64 || entry.trim() !== entry || entry.includes('%')) return null;
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const prefixText = slash === -1 ? null : entry.slice(slash + 1);
  const family = isIP(address);
  if (family !== 4 && family !== 6) return null;
  const width = IP_WIDTH[family];
  if (prefixText !== null && !/^(0|[1-9]\d{0,2})$/.test(prefixText)) return null;
  const prefix = prefixText === null ? width : Number(prefixText);
  if (prefix > width) return null;
  if (family === 4) return { family, prefix, network: v4Value(address) & prefixMask(4, prefix) };
  const value = v6Value(address);
  // ::ffff:a.b.c.d/n with n ≥ 96 is an IPv4 block; clients arrive as IPv4 or mapped, both folded to IPv4.
  if (prefix >= 96 && value >> 32n === 0xffffn) {
    return { family: 4, prefix: prefix - 96, network: (value & 0xffffffffn) & prefixMask(4, prefix - 96) };
  }
  return { family: 6, prefix, network: value & prefixMask(6, prefix) };
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

const contains = (outer: Cidr, family: 4 | 6, value: bigint, prefix: number): boolean =>
  outer.family === family && prefix >= outer.prefix && (value & prefixMask(family, outer.prefix)) === outer.network;

/** Is the whole block `inner` inside one of `outer`? (For "a key cannot widen its own allowlist".) */
export function cidrCovered(outer: readonly string[], inner: string): boolean {
  const child = parseCidr(inner);
  if (!child) return false;
  return outer.some((o) => {
    const parent = parseCidr(o);
    return parent !== null && contains(parent, child.family, child.network, child.prefix);
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
  const blocks = entries.map(parseCidr).filter((c): c is Cidr => c !== null);
  return (ip: string) => {
    const address = parseAddress(ip);
    if (!address) return false;
    const width = IP_WIDTH[address.family];
    return blocks.some((b) => contains(b, address.family, address.value, width));
  };
}
