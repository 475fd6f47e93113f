/**
 * Every environment variable Signet's code reads (`'SIGNET_…'` in apps/, libs/, bin/, test helpers
 * aside) is named in the README or a docs page, in full or as a suffix of a named one
 * (`SIGNET_WEBHOOK_BREAKER_ERROR_PERCENT` / `_VOLUME`). SIGNET_REDIS_PREFIX went undocumented once.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { ROOT } from '../support/spawn';

const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', 'apps', 'libs', 'bin'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((f) => /\.(ts|js|mjs)$/.test(f) && !/\.(int-)?spec\.ts$/.test(f) && !f.includes('/testing/'));

const read = new Set<string>();
for (const file of files) {
  for (const [, name] of readFileSync(join(ROOT, file), 'utf8').matchAll(/['"`](SIGNET_[A-Z0-9_]*[A-Z0-9])['"`]/g)) read.add(name);
}

const docs = [
  'README.md',
  ...execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', 'docs'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f.endsWith('.md')),
].map((page) => readFileSync(join(ROOT, page), 'utf8'));

/** Names a line documents: each `SIGNET_…` in it, and each `_SUFFIX` after one, joined to its stems. */
function documented(): Set<string> {
  const names = new Set<string>();
  for (const line of docs.join('\n').split('\n')) {
    const full = [...line.matchAll(/\b(SIGNET_[A-Z0-9_]*[A-Z0-9])\b/g)].map((m) => m[1]);
    full.forEach((n) => names.add(n));
    for (const [, suffix] of line.matchAll(/`(_[A-Z0-9_]+)`/g)) {
      for (const name of full) {
        const parts = name.split('_');
        for (let i = 2; i < parts.length; i++) names.add(parts.slice(0, i).join('_') + suffix);
      }
    }
  }
  return names;
}

describe('environment variables in the docs', () => {
  it('the code reads variables (the scan finds them)', () => {
    expect([...read]).toEqual(expect.arrayContaining(['SIGNET_HTTP_PORT', 'SIGNET_REDIS_PREFIX', 'SIGNET_BASE_PORT']));
  });

  it('every SIGNET_* variable the code reads is documented', () => {
    const known = documented();
    expect([...read].filter((name) => !known.has(name)).sort()).toEqual([]);
  });
});
