import { isIP } from 'node:net';

import { formatAddress, IP_WIDTH, prefixMask, v4Value, v6Value } from '@signet/net';

import { ConfigError } from './env';

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
    const width = IP_WIDTH[family];
    if (prefixText !== null && !/^(0|[1-9]\d{0,2})$/.test(prefixText)) {
      throw new ConfigError(variable, `'${entry}': the prefix length must be a number from 1 to ${width}`);
    }
    const prefix = prefixText === null ? width : Number(prefixText);
    if (prefix > width) throw new ConfigError(variable, `'${entry}': the prefix length must be a number from 1 to ${width}`);
    if (prefix === 0) {
      throw new ConfigError(variable, `'${entry}' would trust every address, letting any client choose its own; list only your proxies' addresses`);
    }
    const value = family === 4 ? v4Value(address) : v6Value(address);
    const network = value & prefixMask(family, prefix);
    if (network !== value) {
      throw new ConfigError(variable, `'${entry}' has host bits set; write the block as ${formatAddress(family, network)}/${prefix}, or the address alone`);
    }
    entries.push(entry);
  }
  return entries;
}
