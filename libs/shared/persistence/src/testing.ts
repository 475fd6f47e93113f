import { randomBytes } from 'node:crypto';

import { Client } from 'pg';

/**
 * Test helper (not exported from the library index): a fresh PostgreSQL
 * database per test file on the machine's server, dropped afterwards.
 * SIGNET_TEST_DATABASE_URL (as in @signet/testing) points at an existing database to connect through.
 */
export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

export const TEST_PG_ADMIN_URL = process.env['SIGNET_TEST_DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test';

export async function createTestDatabase(prefix = 'signet_t'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(TEST_PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function adminQuery(sql: string): Promise<void> {
  const client = new Client({ connectionString: TEST_PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
