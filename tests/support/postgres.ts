import { randomBytes } from 'node:crypto';

import { Client } from 'pg';

import { databaseUrl } from '@signet/testing';

/** A fresh database on the machine's PostgreSQL, dropped by `drop()`. */
export async function createTempDatabase(label: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `signet_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: databaseUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(databaseUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new Client({ connectionString: databaseUrl() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
