/** Redis the integration tests talk to; overridable so CI can point at its own instance. */
export function redisUrl(): string {
  return process.env['SIGNET_TEST_REDIS_URL'] || 'redis://127.0.0.1:6379';
}

/** PostgreSQL the integration tests talk to. */
export function databaseUrl(): string {
  return process.env['SIGNET_TEST_DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test';
}
