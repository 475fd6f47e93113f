import { randomBytes } from 'node:crypto';

/** Redis the integration tests talk to; overridable so CI can point at its own instance. */
export function redisUrl(): string {
  return process.env['SIGNET_TEST_REDIS_URL'] || 'redis://127.0.0.1:6379';
}

/** PostgreSQL the integration tests talk to. */
export function databaseUrl(): string {
  return process.env['SIGNET_TEST_DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test';
}

/**
 * A key prefix no other test (or parallel jest worker) uses, e.g.
 * `signet-test-revocation-3f9a1c2b7d:`. Redis is shared by every test on the
 * machine, so each test namespaces its keys and channels with one of these.
 */
export function uniquePrefix(label: string): string {
  const safe = label.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 40) || 'x';
  return `signet-test-${safe}-${randomBytes(5).toString('hex')}:`;
}
