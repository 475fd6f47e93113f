import { Inject, Injectable } from '@nestjs/common';

import { parseAddress } from '@signet/credentials';
import { TokenBucketLimiter } from '@signet/http';

import { rateLimited } from '../errors';
import { TOKENS_OPTIONS, TokensOptions } from '../options';

/**
 * Per-address limit on the endpoints end-user devices and browsers call
 * without an API key: POST /v1/tokens/refresh and the IdP-token form of POST
 * /v1/federation/exchange. One token bucket per client address shared by
 * both (`SIGNET_PUBLIC_RATE_PER_IP` per second, `SIGNET_PUBLIC_BURST_PER_IP`
 * at once), in this process's memory: the limit is per replica.
 *
 * The address is the request's `ip`, the one API key allowlists use too: the
 * TCP peer, or, when the peer is one of SIGNET_TRUSTED_PROXIES, the nearest
 * X-Forwarded-For address that is not (Fastify's trustProxy; nothing here
 * reads forwarding headers itself). IPv6 clients are limited per /64,
 * the smallest block one subscriber usually holds; IPv4-mapped IPv6 counts
 * as the IPv4 address.
 */
@Injectable()
export class PublicRateLimiter {
  private readonly buckets: TokenBucketLimiter;

  constructor(@Inject(TOKENS_OPTIONS) options: TokensOptions) {
    const { ratePerSecond, burst } = options.publicRateLimit;
    this.buckets = new TokenBucketLimiter({ ratePerSecond, burst });
  }

  /** Takes one request from the address' bucket; throws 429 `rate_limited` (with Retry-After) when it is empty. */
  check(ip: string, now: number = Date.now()): void {
    const wait = this.buckets.take(addressKey(ip), now);
    if (wait > 0) throw rateLimited(wait);
  }
}

/** The bucket an address counts against: IPv4 as is, IPv6 by its /64. */
export function addressKey(ip: string): string {
  const parsed = parseAddress(ip);
  if (!parsed) return ip;
  return parsed.family === 4 ? `4:${parsed.value}` : `6:${parsed.value >> 64n}`;
}
