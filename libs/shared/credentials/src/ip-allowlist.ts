import { BlockList, isIP } from 'node:net';

/**
 * Compiles an allowlist of IPs and CIDR blocks (`10.0.0.0/8`, `2001:db8::/32`,
 * `203.0.113.7`). Unparsable entries are skipped, so a list holding only bad
 * entries allows nothing: it fails closed. An empty list allows everyone.
 */
export function compileAllowlist(entries: readonly string[]): ((ip: string) => boolean) | null {
  if (entries.length === 0) return null;
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.trim().split('/');
    const family = isIP(address);
    if (family === 0) continue;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) {
      list.addAddress(address, type);
      continue;
    }
    const bits = Number(prefix);
    if (!/^\d+$/.test(prefix) || bits > (family === 4 ? 32 : 128)) continue;
    list.addSubnet(address, bits, type);
  }
  return (ip: string) => {
    // IPv4 clients on a dual-stack socket show up as ::ffff:a.b.c.d.
    const plain = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
    const family = isIP(plain);
    if (family === 0) return false;
    return list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  };
}
