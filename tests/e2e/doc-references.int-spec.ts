/**
 * Every file the README, a docs page or an example's README points at exists: relative Markdown links, and file names in
 * backticks (`backend.mjs`, `docs/architecture.md`), found next to the page, from the repository
 * root, or by name anywhere in the repository.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';

import { ROOT } from '../support/spawn';

const tracked = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f !== '' && !f.startsWith('node_modules'));
const names = new Set(tracked.map((f) => basename(f)));
// The pages a newcomer reads; each library's README is its owners' to keep.
const pages = tracked.filter((f) => f.endsWith('.md') && (f === 'README.md' || f.startsWith('docs/') || f.startsWith('examples/')));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
const packages = new Set([...Object.keys(pkg['dependencies'] ?? {}), ...Object.keys(pkg['devDependencies'] ?? {})]);

const FILE_IN_BACKTICKS = /`([\w./-]+\.(?:js|mjs|cjs|ts|md|json|ya?ml|proto|sh))`/g;
const RELATIVE_LINK = /\]\((?!https?:|mailto:|#)([^)\s]+)\)/g;

/** Inside the repository: a page must not send its reader to files a clone does not have. */
const inRepo = (path: string) => resolve(path).startsWith(ROOT + sep) && existsSync(path);

function dangling(page: string): string[] {
  const text = readFileSync(join(ROOT, page), 'utf8');
  const here = dirname(join(ROOT, page));
  const found: string[] = [];
  for (const [, target] of text.matchAll(RELATIVE_LINK)) {
    const path = decodeURIComponent(target.split('#')[0]);
    if (path !== '' && !inRepo(join(here, path))) found.push(`link ${target}`);
  }
  for (const [, name] of text.matchAll(FILE_IN_BACKTICKS)) {
    // dist/ is what `npm run build` writes; `/docs/openapi.json` is a URL path; `uWebSockets.js` a package.
    if (name.startsWith('dist/') || name.includes('/dist/') || name.startsWith('/') || packages.has(name)) continue;
    if (inRepo(join(here, name)) || inRepo(join(ROOT, name))) continue;
    // A name, or a path from inside a library (`conformance/raw311.ts`), that some file has.
    if (!name.startsWith('.') && (names.has(name) || tracked.some((f) => f.endsWith(`/${name}`)))) continue;
    found.push(`file ${name}`);
  }
  return found;
}

describe('references in the documentation', () => {
  it('there are pages to check', () => {
    expect(pages).toEqual(expect.arrayContaining(['README.md', 'docs/architecture.md', 'examples/supabase-backend/README.md']));
  });

  it.each(pages)('%s points only at files that exist', (page) => {
    expect(dangling(page)).toEqual([]);
  });

  // The README is what Signet is, the quickstart and links; the reference lives in docs/ (it was 809 lines once).
  it("every docs page is a row of the README's Documentation table, and the README stays an overview", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Documentation'), readme.indexOf('\n## ', readme.indexOf('## Documentation') + 1));
    const listed = new Set([...table.matchAll(/^\| \[[^\]]+\]\((docs\/[\w.-]+\.md)\) \|/gm)].map((m) => m[1]));
    expect(pages.filter((p) => /^docs\/[^/]+\.md$/.test(p) && !listed.has(p))).toEqual([]);
    expect(readme.split('\n').length).toBeLessThan(300);
  });
});
