/**
 * Every ```sh block of README.md and docs/*.md runs as written, in order, against a fresh all-in-one.
 *
 * The convention (also in docs/writing-docs.md):
 * - Each page that has `sh` blocks gets its own fresh all-in-one (embedded database, its own data
 *   folder, listeners on free loopback ports) and one bash shell, `set -euo pipefail`, in which its
 *   blocks run in page order: a variable one block sets (`TOKEN_ID=$(… | jq -r .token_id)`) is there
 *   for the next. The shell starts where a reader of the README is: in the repository root, with the
 *   bootstrap key of that first start in `KEY`, and `signet` (bin/signet.js) on the PATH.
 * - The documented default ports are written as they are (`localhost:8080`, `-p 1883`,
 *   `ws://localhost:8083/mqtt`); the test replaces them by its own where they appear as a port of a
 *   local address (`localhost:`, `127.0.0.1:`, `[::1]:`) or after `-p`/`--port`.
 *   mosquitto_pub/sub name their port (`-p 1883`) on the command's first line.
 * - `# → 201 …` after a command: the last `curl` before that comment answered HTTP 201. Any other curl
 *   that answers 4xx or 5xx (or not at all) fails the block: an error is shown only where a page says so.
 *   `# → … prints: TEXT`: by the end of the block its output holds TEXT.
 * - A block may take BLOCK_TIMEOUT_MS; what it starts in the background (`mosquitto_sub … &`) is
 *   killed when its page ends.
 * - A block that cannot run on one fresh all-in-one (a cluster, kubectl, a browser, an IdP's console, a
 *   long-running server) is tagged `console`. Shell tagged `bash`/`shell` is refused, so that no
 *   command block escapes this test by its tag.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { ROOT, SpawnedApp } from '../support/spawn';

const BLOCK_TIMEOUT_MS = 60000;
const DEFAULT_PORTS = { http: 8080, mqtt: 1883, ws: 8083 } as const;
type Ports = Record<keyof typeof DEFAULT_PORTS, number>;

interface Block {
  /** The line of the opening fence, 1-based. */
  line: number;
  tag: string;
  body: string[];
}

/** Fenced blocks of a Markdown page (in list items too) with their info string's first word. */
function fencedBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  let open: (Block & { indent: number }) | undefined;
  text.split('\n').forEach((line, i) => {
    const fence = /^(\s*)```(.*)$/.exec(line);
    if (open) {
      if (fence && fence[2].trim() === '') {
        blocks.push({ line: open.line, tag: open.tag, body: open.body });
        open = undefined;
      } else open.body.push(line.slice(Math.min(open.indent, /^\s*/.exec(line)![0].length)));
    } else if (fence) open = { line: i + 1, tag: fence[2].trim().split(/\s+/)[0] ?? '', body: [], indent: fence[1].length };
  });
  return blocks;
}

const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)].sort();
const shBlocks = (page: string) => fencedBlocks(readFileSync(join(ROOT, page), 'utf8')).filter((b) => b.tag === 'sh');

/** The documented default ports replaced by the test's, only where they are a local address's port. */
function withPorts(line: string, ports: Ports): string {
  let out = line;
  for (const [name, port] of Object.entries(DEFAULT_PORTS) as [keyof Ports, number][]) {
    out = out
      .replace(new RegExp(`\\b(localhost|127\\.0\\.0\\.1|\\[::1\\]):${port}\\b`, 'g'), `$1:${ports[name]}`)
      .replace(new RegExp(`(\\s(?:-p|--port)\\s+)${port}\\b`, 'g'), `$1${ports[name]}`);
  }
  return out;
}

const STATUS = /#\s*→\s*(\d{3})\b/;
const PRINTS = /#\s*→.*\bprints:\s*(.+?)\s*$/;

/**
 * A block as the shell runs it: ports mapped, and each `# → NNN` comment turned into a check of the last
 * curl's status on the same line, so bash's line numbers still match the page's.
 */
function instrument(block: Block, ports: Ports): string {
  return block.body
    .map((raw, i) => {
      const line = withPorts(raw, ports);
      const status = STATUS.exec(line);
      if (!status) return line;
      const check = `__docs_expect_status ${status[1]} ${block.line + 1 + i}`;
      if (line.trim().startsWith('#')) return `${check} ${line.trim()}`;
      const at = line.indexOf(status[0]);
      return `${line.slice(0, at)}; ${check} ${line.slice(at)}`;
    })
    .join('\n');
}

/** Texts the block's output must hold once it ends (`# → the subscriber prints: users/alice/hello hi`). */
const expectedPrints = (block: Block): string[] =>
  block.body.map((l) => PRINTS.exec(l)?.[1]).filter((t): t is string => t !== undefined);

/** Defined in the page's shell before its first block: records every curl's status for the checks. */
const prelude = (dir: string) => `
set -euo pipefail
__docs_statuses=${JSON.stringify(join(dir, 'statuses'))}
__docs_fence=0
# The page's line of a command that fails (the block's own line numbers start after its fence).
trap 'echo "docs-commands: exit $? at line $((__docs_fence + LINENO)) of the page" >&2' ERR
curl() {
  local headers status rc=0
  headers=$(mktemp)
  command curl -D "$headers" "$@" || rc=$?
  status=$(sed -n 's/^HTTP\\/[0-9.]* \\([0-9][0-9][0-9]\\).*/\\1/p' "$headers" | tail -n 1)
  rm -f "$headers"
  echo "\${status:-none}" >> "$__docs_statuses"
  return $rc
}
# A curl that answered 4xx or 5xx (or nothing) fails the block, unless a \`# → NNN\` right after it says so.
__docs_unexpected() {
  local bad
  bad=$(grep -vE '^[123][0-9][0-9]$' "$__docs_statuses" | head -n 1 || true)
  if [ -n "$bad" ]; then
    printf '\ndocs-commands: a curl before line %s answered %s, and no "# → %s" after it says so\n' "$1" "$bad" "$bad" >&2
    exit 98
  fi
}
__docs_expect_status() {
  local got
  got=$(tail -n 1 "$__docs_statuses" 2>/dev/null || true)
  sed -i '$d' "$__docs_statuses"
  __docs_unexpected "$2"
  : > "$__docs_statuses"
  if [ "$got" != "$1" ]; then
    printf '\ndocs-commands: line %s says HTTP %s; the last curl before it answered %s\n' "$2" "$1" "\${got:-nothing}" >&2
    exit 97
  fi
}
`;

interface Outcome {
  ran: number;
  failure?: string;
}

/** Runs the page's blocks in one bash, block by block, each within BLOCK_TIMEOUT_MS. */
async function runPage(page: string, blocks: Block[], ports: Ports, key: string, dir: string): Promise<Outcome> {
  const bin = join(dir, 'bin');
  const home = join(dir, 'home');
  mkdirSync(bin);
  mkdirSync(home);
  symlinkSync(join(ROOT, 'bin', 'signet.js'), join(bin, 'signet'));
  const driver = [prelude(dir)];
  blocks.forEach((block, i) => {
    writeFileSync(join(dir, `block-${i}.sh`), instrument(block, ports) + '\n');
    driver.push(
      `echo "start ${i}"`,
      `: > "$__docs_statuses"`,
      `__docs_fence=${block.line}`,
      `source ${JSON.stringify(join(dir, `block-${i}.sh`))} < /dev/null > ${JSON.stringify(join(dir, `out-${i}`))} 2>&1`,
      `__docs_unexpected ${block.line + block.body.length + 1} >> ${JSON.stringify(join(dir, `out-${i}`))} 2>&1`,
      `echo "done ${i}"`,
    );
  });
  writeFileSync(join(dir, 'driver.sh'), driver.join('\n') + '\n');

  const shell: ChildProcess = spawn('bash', ['--noprofile', '--norc', join(dir, 'driver.sh')], {
    cwd: ROOT,
    detached: true, // its own process group: whatever a block leaves in the background ends with the page
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: `${bin}:${dirname(process.execPath)}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
      HOME: home,
      TMPDIR: dir,
      LANG: 'C.UTF-8',
      KEY: key,
    },
  });
  let markers = '';
  let shellErr = '';
  shell.stdout?.on('data', (d: Buffer) => (markers += d.toString()));
  shell.stderr?.on('data', (d: Buffer) => (shellErr += d.toString()));
  const exited = new Promise<number | null>((resolve) => shell.once('exit', (code) => resolve(code)));
  const output = (i: number) => {
    try {
      return readFileSync(join(dir, `out-${i}`), 'utf8').slice(-4000);
    } catch {
      return '';
    }
  };
  const where = (i: number) => `${page}:${blocks[i].line}`;

  try {
    for (let i = 0; i < blocks.length; i++) {
      const deadline = Date.now() + BLOCK_TIMEOUT_MS;
      let code: number | null | undefined;
      void exited.then((c) => (code = c));
      while (!markers.includes(`done ${i}\n`)) {
        if (code !== undefined && !markers.includes(`done ${i}\n`)) {
          return { ran: i, failure: `${where(i)}: the sh block failed (exit ${code})\n${output(i)}${shellErr}` };
        }
        if (Date.now() > deadline) {
          return { ran: i, failure: `${where(i)}: the sh block did not end within ${BLOCK_TIMEOUT_MS / 1000} s\n${output(i)}` };
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      const out = output(i);
      const missing = expectedPrints(blocks[i]).filter((text) => !out.includes(text));
      if (missing.length > 0) return { ran: i, failure: `${where(i)}: the output lacks ${JSON.stringify(missing)}\n${out}` };
    }
    return { ran: blocks.length };
  } finally {
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      try {
        process.kill(-shell.pid!, signal);
      } catch {
        // the group is gone already
      }
      if (signal === 'SIGTERM') await new Promise((r) => setTimeout(r, 200));
    }
    await exited;
  }
}

async function freshAllInOne(dataDir: string): Promise<{ app: SpawnedApp; ports: Ports; key: string }> {
  // Everything else at its default, as for a reader's `npm start`; SIGNET_BASE_PORT=0: every listener on a free port.
  const app = await SpawnedApp.start('signet', { SIGNET_DATA_DIR: dataDir, SIGNET_HOST: '127.0.0.1', SIGNET_BASE_PORT: '0', SIGNET_LOG_LEVEL: 'warn' }).ready(60000);
  const key = /^(sk_\w+)$/m.exec(app.stdout)?.[1];
  if (!key) throw new Error(`no bootstrap key in: ${app.stdout}`);
  return { app, key, ports: { http: app.port('HTTP API'), mqtt: app.port('MQTT'), ws: app.port('WebSocket') } };
}

describe('the command blocks of the README and docs', () => {
  it('there are pages and blocks to run, and the README is one of them', () => {
    expect(pages).toEqual(expect.arrayContaining(['README.md', 'docs/tokens.md']));
    expect(shBlocks('README.md').length).toBeGreaterThan(0);
  });

  it.each(pages)('%s tags shell blocks sh (run here) or console (not run), never bash or shell', (page) => {
    const wrong = fencedBlocks(readFileSync(join(ROOT, page), 'utf8'))
      .filter((b) => ['bash', 'shell', 'zsh', 'shell-session'].includes(b.tag))
      .map((b) => `${page}:${b.line} \`\`\`${b.tag}`);
    expect(wrong).toEqual([]);
  });

  // Without -p, mosquitto_pub/sub reach whatever broker holds 1883 on the machine, not the test's Signet.
  it.each(pages)('%s gives every mosquitto_pub/sub in an sh block its port', (page) => {
    const missing = shBlocks(page).flatMap((b) =>
      b.body.flatMap((l, i) => (/\bmosquitto_(pub|sub)\b/.test(l) && !/\s(-p|--port|-L|--url)\s/.test(l) ? [`${page}:${b.line + 1 + i}`] : [])),
    );
    expect(missing).toEqual([]);
  });

  const runnable = pages.filter((page) => shBlocks(page).length > 0);
  it.each(runnable)(
    '%s: every sh block runs in order against a fresh all-in-one',
    async (page) => {
      const blocks = shBlocks(page);
      const dir = mkdtempSync(join(tmpdir(), 'signet-docs-'));
      let app: SpawnedApp | undefined;
      try {
        const started = await freshAllInOne(join(dir, 'data'));
        app = started.app;
        const outcome = await runPage(page, blocks, started.ports, started.key, dir);
        expect(outcome.failure).toBeUndefined();
        expect(outcome.ran).toBe(blocks.length);
      } finally {
        await app?.stop('SIGTERM');
        rmSync(dir, { recursive: true, force: true });
      }
    },
    // Starting the all-in-one, then each block's bound; the page's blocks run one after another.
    90000 + BLOCK_TIMEOUT_MS * Math.max(1, ...runnable.map((page) => shBlocks(page).length)),
  );
});
