import type { ApiKeyPrincipal } from '@signet/api-keys';
import { DEFAULT_ACCESS_TOKEN_ALG, generateSigningKey, SigningKey } from '@signet/credentials';
import { createLogger, Logger } from '@signet/observability';

import type { TokensOptions } from '../options';
import { TokenIssuer } from '../token-issuer';
import { InMemoryTokenRepository } from './in-memory-token.repository';

/** Limits of a unit spec: default 1 h, process maximum 1 day (as SIGNET_TOKEN_DEFAULT_TTL / SIGNET_TOKEN_MAX_TTL). */
export const TEST_TOKENS_OPTIONS: TokensOptions = {
  defaultTtlSeconds: 3600,
  maxTtlSeconds: 86_400,
  refreshTtlSeconds: 30 * 86_400,
  signingAlg: DEFAULT_ACCESS_TOKEN_ALG,
  publicRateLimit: { ratePerSecond: 10, burst: 100 },
  retention: { pruneIntervalMs: 0, retentionDays: 30 },
};

let signingKey: Promise<SigningKey> | undefined;

/** One key per test file (an RS256 one costs tens of milliseconds to generate). */
export const testSigningKey = (): Promise<SigningKey> => (signingKey ??= generateSigningKey());

/** A TokenIssuer over `tokens`, signing with {@link testSigningKey}. */
export async function testIssuer(tokens: InMemoryTokenRepository, options: TokensOptions = TEST_TOKENS_OPTIONS): Promise<TokenIssuer> {
  const key = await testSigningKey();
  return new TokenIssuer({ signingKey: () => key }, options, tokens);
}

export function principal(orgId: string, overrides: Partial<ApiKeyPrincipal> = {}): ApiKeyPrincipal {
  return {
    keyId: 'key_test',
    orgId,
    name: 'test',
    type: 'secret',
    scopes: [],
    ipAllowlist: [],
    expiresAt: null,
    willOnRevoke: 'suppress',
    ...overrides,
  };
}

export const silentLogger = (): Logger => createLogger({ name: 'test', level: 'silent' });
