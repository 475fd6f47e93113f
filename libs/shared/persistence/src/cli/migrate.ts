/**
 * `npm run migrate [run|revert|show]`: applies, reverts (the last one) or
 * lists the schema migrations against DATABASE_URL, or against the embedded
 * database under SIGNET_DATA_DIR when no URL is set (stop the server first:
 * the embedded database belongs to one process at a time).
 */
import { ConfigError, loadConfig } from '@signet/config';

import { openDatabase, OpenedDatabase, runMigrations } from '../database';
import { missingDatabaseHint } from './hints';

const COMMANDS = ['run', 'revert', 'show'] as const;
type Command = (typeof COMMANDS)[number];

const out = (line: string): void => void process.stdout.write(line + '\n');

async function executed(db: OpenedDatabase): Promise<Set<string>> {
  const runner = db.dataSource.createQueryRunner();
  try {
    const table = db.dataSource.options.migrationsTableName ?? 'migrations';
    if (!(await runner.hasTable(table))) return new Set();
    const rows: Array<{ name: string }> = await runner.query(`SELECT name FROM "${table}"`);
    return new Set(rows.map((r) => r.name));
  } finally {
    await runner.release();
  }
}

async function main(argv: string[]): Promise<number> {
  const command = (argv[0] ?? 'run') as Command;
  if (!COMMANDS.includes(command)) {
    process.stderr.write(`usage: migrate [${COMMANDS.join('|')}]\n`);
    return 2;
  }
  // Never migrate implicitly on open: this tool does it explicitly, and `show` must not change anything.
  const config = { ...loadConfig(), migrateOnStart: false };
  const db = await openDatabase(config, undefined, { deadlines: false });
  try {
    out(`database: ${db.embedded ? `embedded (${config.dataDir})` : 'DATABASE_URL'}`);
    if (command === 'run') {
      const applied = await runMigrations(db.dataSource, { lock: !db.embedded });
      out(applied.length ? applied.map((name) => `applied ${name}`).join('\n') : 'no pending migrations');
    } else if (command === 'revert') {
      const before = await executed(db);
      await db.dataSource.undoLastMigration({ transaction: 'each' });
      const after = await executed(db);
      const reverted = [...before].filter((name) => !after.has(name));
      out(reverted.length ? `reverted ${reverted.join(', ')}` : 'nothing to revert');
    } else {
      const done = await executed(db);
      for (const m of db.dataSource.migrations) {
        const name = m.name ?? m.constructor.name;
        out(`${done.has(name) ? '[X]' : '[ ]'} ${name}`);
      }
    }
    return 0;
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const message = err instanceof ConfigError || err instanceof Error ? err.message : String(err);
    const hint = missingDatabaseHint(err, process.env['DATABASE_URL']);
    process.stderr.write(`migrate failed: ${message}\n${hint ? `${hint}\n` : ''}`);
    process.exitCode = 1;
  },
);
