import { hostBitsCleared, IP_WIDTH, parseIpBlock } from '@signet/net';

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
    const block = parseIpBlock(entry);
    if ('problem' in block) {
      if (block.problem === 'not_an_address') {
        throw new ConfigError(variable, `'${entry}' is not an IPv4/IPv6 address or CIDR block (e.g. 10.0.0.0/8, fd00::/8)`);
      }
      throw new ConfigError(variable, `'${entry}': the prefix length must be a number from 1 to ${IP_WIDTH[block.family]}`);
    }
    if (block.prefix === 0) {
      throw new ConfigError(variable, `'${entry}' would trust every address, letting any client choose its own; list only your proxies' addresses`);
    }
    const network = hostBitsCleared(block);
    if (network !== null) {
      throw new ConfigError(variable, `'${entry}' has host bits set; write the block as ${network}/${block.prefix}, or the address alone`);
    }
    entries.push(entry);
  }
  return entries;
}
