import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Client } from 'pg';

import { startEmbeddedServer } from './embedded-server';
import { SILENT_LOGGER } from './logger';

// PGlite's first start in a fresh data directory runs initdb: seconds, more under load.
jest.setTimeout(60_000);

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

describe('the embedded database server', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'signet-embedded-spec-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves on a socket in a directory of its own pid, gone once stopped, and removes the directories of dead processes', async () => {
    // A process that has exited: its pid is free (and reused only after the pid space wraps).
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    const dead = await mkdtemp(join(tmpdir(), `signet-pg-${deadPid}-`));
    await writeFile(join(dead, '.s.PGSQL.5432'), '');
    const live = await mkdtemp(join(tmpdir(), `signet-pg-${process.pid}-`));
    try {
      const server = await startEmbeddedServer(dataDir, SILENT_LOGGER);
      expect(server.host).toMatch(new RegExp(`/signet-pg-${process.pid}-[^/]+$`));
      expect(await exists(dead)).toBe(false);
      expect(await exists(live)).toBe(true);

      const client = new Client({ host: server.host, port: server.port, user: 'postgres', database: 'postgres' });
      await client.connect();
      expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await client.end();

      await server.stop();
      expect(await exists(server.host)).toBe(false);
    } finally {
      await rm(dead, { recursive: true, force: true });
      await rm(live, { recursive: true, force: true });
    }
  });
});
