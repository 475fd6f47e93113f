import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Client } from 'pg';

import { deleteRedisKeys } from '@signet/testing';

/** Every listener on a free loopback port, quiet logs, state in `dataDir`. */
export const loopbackEnv = (dataDir: string): Record<string, string> => ({
  SIGNET_HOST: '127.0.0.1',
  SIGNET_HTTP_PORT: '0',
  SIGNET_MQTT_PORT: '0',
  SIGNET_WS_PORT: '0',
  SIGNET_GRPC_PORT: '0',
  SIGNET_LOG_LEVEL: 'warn',
  SIGNET_DATA_DIR: dataDir,
  // Every load-generator connection comes from 127.0.0.1 (10,000 at once in idle_mem and revoke_10k).
  SIGNET_MQTT_MAX_CONNECTIONS_PER_IP: '1000000',
  // connect_tkn/connect_key make ~20,000 CONNECTs a second from 127.0.0.1 as a handful of users.
  SIGNET_MQTT_CONNECT_RATE_PER_IP: '100000000',
  SIGNET_MQTT_CONNECT_BURST_PER_IP: '100000000',
  SIGNET_MQTT_CONNECT_RATE_PER_IDENTITY: '100000000',
  SIGNET_MQTT_CONNECT_BURST_PER_IDENTITY: '100000000',
  // token_refresh and refresh_storm refresh thousands of devices' tokens a second, all from 127.0.0.1.
  SIGNET_PUBLIC_RATE_PER_IP: '100000000',
  SIGNET_PUBLIC_BURST_PER_IP: '100000000',
});

const pgUrl = () => process.env['SIGNET_TEST_DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = () => process.env['SIGNET_TEST_REDIS_URL'] || 'redis://127.0.0.1:6379';

async function adminQuery(sql: string): Promise<void> {
  const admin = new Client({ connectionString: pgUrl() });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/**
 * The environment of a Signet under benchmark: embedded backends, or a fresh
 * database on the machine's PostgreSQL plus Redis under its own prefix.
 * `cleanup()` removes the data folder, the database (`database`, null when embedded) and the Redis keys.
 */
export async function benchBackend(
  label: string,
  embedded: boolean,
): Promise<{ env: Record<string, string>; database: string | null; cleanup(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), `signet-bench-${label}-`));
  const env = { ...loopbackEnv(dataDir), SIGNET_MASTER_KEY: randomBytes(32).toString('base64') };
  let dbName: string | null = null;
  let redisPrefix: string | null = null;
  if (!embedded) {
    dbName = `signet_bench_${randomBytes(4).toString('hex')}`;
    await adminQuery(`CREATE DATABASE ${dbName}`);
    const url = new URL(pgUrl());
    url.pathname = `/${dbName}`;
    Object.assign(env, {
      DATABASE_URL: url.toString(),
      REDIS_URL: redisUrl(),
      SIGNET_REDIS_PREFIX: (redisPrefix = `signet-bench-${randomBytes(4).toString('hex')}:`),
    });
  }
  return {
    env,
    database: dbName,
    cleanup: async () => {
      await rm(dataDir, { recursive: true, force: true });
      if (dbName) await adminQuery(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      if (redisPrefix) await deleteRedisKeys(redisPrefix, redisUrl());
    },
  };
}
