/**
 * `npm run migrate` against a DATABASE_URL whose database does not exist says how to create it, and the
 * command it suggests works. Runs the built CLI (`npm run build` first).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

import { Client } from 'pg';

import { databaseUrl } from '@signet/testing';

const CLI = join(__dirname, '..', '..', '..', '..', '..', 'dist', 'libs', 'shared', 'persistence', 'src', 'cli', 'migrate.js');

function migrate(url: string, command: string) {
  return spawnSync(process.execPath, [CLI, command], {
    env: { PATH: process.env['PATH'], DATABASE_URL: url, SIGNET_LOG_LEVEL: 'silent' },
    encoding: 'utf8',
    timeout: 30000,
  });
}

describe('migrate on a database that does not exist', () => {
  const name = `signet_missing_${randomBytes(5).toString('hex')}`;
  const url = new URL(databaseUrl());
  url.pathname = `/${name}`;

  afterAll(async () => {
    const admin = new Client({ connectionString: databaseUrl() });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  it('names the database and prints the statement that creates it; that statement works', async () => {
    const failed = migrate(url.toString(), 'show');
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain(`the database "${name}" does not exist`);
    const suggestion = /psql '([^']+)' -c '([^']+)'/.exec(failed.stderr);
    expect(suggestion).not.toBeNull();

    const [, adminUrl, statement] = suggestion!;
    const admin = new Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(statement);
    await admin.end();

    const ran = migrate(url.toString(), 'run');
    expect([ran.status, ran.stderr]).toEqual([0, '']);
    expect(ran.stdout).toContain('applied ');
  });
});
