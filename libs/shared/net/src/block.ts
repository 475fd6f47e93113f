import { BlockList, isIP } from 'node:net';

/** Bits in an address of each family. */
export const IP_WIDTH = { 4: 32, 6: 128 } as const;

/** One address or CIDR block as written; node:net has validated the address. */
export interface IpBlock {
  /** The address as written, host bits included. */
  address: string;
  family: 4 | 6;
  /** The written prefix, or the full width for a bare address. */
  prefix: number;
}

/** Why a text is not an {@link IpBlock}: not an address (zone ids included), or a bad prefix length. */
export type IpBlockProblem = { problem: 'not_an_address' } | { problem: 'bad_prefix'; family: 4 | 6 };

const PREFIX = /^(0|[1-9]\d{0,2})$/;
const FAMILY = { 4: 'ipv4', 6: 'ipv6' } as const;

/** Parses `203.0.113.7`, `10.0.0.0/8`, `2001:db8::/32`, `::ffff:10.0.0.0/104`. */
export function parseIpBlock(entry: string): IpBlock | IpBlockProblem {
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  // A zone id (fe80::1%eth0) names an interface, not a host: no use in a block.
  const family = address.includes('%') ? 0 : isIP(address);
  if (family !== 4 && family !== 6) return { problem: 'not_an_address' };
  if (slash === -1) return { address, family, prefix: IP_WIDTH[family] };
  const prefixText = entry.slice(slash + 1);
  const prefix = PREFIX.test(prefixText) ? Number(prefixText) : Infinity;
  return prefix > IP_WIDTH[family] ? { problem: 'bad_prefix', family } : { address, family, prefix };
}

const MAYBE_MAPPED = /ffff/i;
const MAPPED = new BlockList();
MAPPED.addSubnet('::ffff:0:0', 96, 'ipv6');

/**
 * The family a block matches clients of: an IPv4-mapped IPv6 block of /96 or
 * longer (`::ffff:10.0.0.0/104`) is the IPv4 block 10.0.0.0/8, since clients
 * arrive as IPv4 or as mapped IPv6 and both count as IPv4; shorter IPv6 blocks
 * hold no IPv4 client.
 */
function matchFamily(block: IpBlock): { family: 4 | 6; prefix: number } {
  if (block.family === 6 && block.prefix >= 96 && MAPPED.check(block.address, 'ipv6')) {
    return { family: 4, prefix: block.prefix - 96 };
  }
  return { family: block.family, prefix: block.prefix };
}

/** Is every address of `inner` in `outer`? (For "a key cannot widen its own allowlist".) */
export function blockCovers(outer: IpBlock, inner: IpBlock): boolean {
  const o = matchFamily(outer);
  const i = matchFamily(inner);
  if (o.family !== i.family || i.prefix < o.prefix) return false;
  // Within one family a longer prefix is inside the shorter one iff any of its addresses is.
  const list = new BlockList();
  list.addSubnet(outer.address, outer.prefix, FAMILY[outer.family]);
  return list.check(inner.address, FAMILY[inner.family]);
}

/**
 * A matcher of client addresses against blocks of both families, built once
 * (node:net BlockList) and cheap per call. A client address may carry a zone
 * id, which is ignored; anything not an address is refused.
 */
export function ipBlockMatcher(blocks: readonly IpBlock[]): (ip: string) => boolean {
  const v4 = new BlockList();
  const v6 = new BlockList();
  let v4Rules = 0;
  let v6Rules = 0;
  for (const block of blocks) {
    if (matchFamily(block).family === 4) {
      v4.addSubnet(block.address, block.prefix, FAMILY[block.family]);
      v4Rules++;
    } else {
      v6.addSubnet(block.address, block.prefix, FAMILY[block.family]);
      v6Rules++;
    }
  }
  // Each check() builds a SocketAddress (≈ 3 µs): skip the ones that cannot match, and remember the
  // last answer, since a key's connections mostly come from one address (a backend, a NAT).
  let lastIp: string | undefined;
  let lastAnswer = false;
  const match = (ip: string): boolean => {
    const zone = ip.indexOf('%');
    const address = zone === -1 ? ip : ip.slice(0, zone);
    const family = isIP(address);
    if (family === 4) return v4Rules > 0 && v4.check(address, 'ipv4');
    if (family !== 6) return false;
    // BlockList matches a mapped address against IPv4 rules itself; keep it away from IPv6 ones (::/0).
    // Only a text holding the group ffff can be mapped.
    const mapped = MAYBE_MAPPED.test(address) && MAPPED.check(address, 'ipv6');
    return mapped ? v4Rules > 0 && v4.check(address, 'ipv6') : v6Rules > 0 && v6.check(address, 'ipv6');
  };
  return (ip: string) => {
    if (ip !== lastIp) {
      lastAnswer = match(ip);
      lastIp = ip;
    }
    return lastAnswer;
  };
}
