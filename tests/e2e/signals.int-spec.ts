/**
 * A supervisor's SIGTERM reaches the server whichever way it was started:
 * `npm start` (npm forwards the signal to its script's shell, which must have
 * become the server with `exec`) or the `signet` bin. No node is left behind.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { testEnv } from '../support/signet';
import { ROOT } from '../support/spawn';

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(command: string, args: string[], env: NodeJS.ProcessEnv): Started {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function ready(s: Started, timeoutMs = 60000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!s.output().includes(' is ready\n')) {
    if (s.child.exitCode !== null) throw new Error(`exited with ${s.child.exitCode}: ${s.output()}`);
    if (Date.now() > deadline) throw new Error(`not ready in time: ${s.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every process below `pid`, from `ps`. */
function descendants(pid: number): number[] {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number));
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of rows) {
      if (ppid === parent) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function gone(pids: number[], timeoutMs = 15000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return pids.filter(alive);
}

describe('stopping a started Signet', () => {
  let dataDir: string;
  let running: Started | undefined;
  let left: number[] = [];

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'signet-signals-'));
  });
  afterEach(async () => {
    for (const pid of left.filter(alive)) process.kill(pid, 'SIGKILL');
    if (running && running.child.exitCode === null) running.child.kill('SIGKILL');
    running = undefined;
    left = [];
    await rm(dataDir, { recursive: true, force: true });
  });

  const env = (): NodeJS.ProcessEnv => ({ ...process.env, ...testEnv({ SIGNET_DATA_DIR: dataDir, SIGNET_LOG_LEVEL: 'warn' }) });

  it('SIGTERM to `npm start` stops the server; no node is orphaned', async () => {
    running = start('npm', ['start'], env());
    await ready(running);
    const below = descendants(running.child.pid!);
    expect(below.length).toBeGreaterThan(0);
    left = below;
    running.child.kill('SIGTERM');
    await running.exited;
    expect(await gone(below)).toEqual([]);
    expect(running.output()).toContain('SIGTERM received, stopping');
  }, 120000);

  it('SIGTERM to the `signet` bin stops it with status 0', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    running = start(process.execPath, [join(ROOT, pkg.bin['signet']), 'start'], env());
    await ready(running);
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
  });

  it('the `signet` bin lists its commands', () => {
    const usage = execFileSync(process.execPath, [join(ROOT, 'bin', 'signet.js'), '--help'], { encoding: 'utf8', stdio: 'pipe' });
    for (const command of ['start', 'token-service', 'mqtt-edge', 'migrate']) expect(usage).toContain(`  ${command} `);
  });

  it('every start and migrate script execs its node, so the signal has one process to reach', async () => {
    const { scripts } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const launchers = Object.entries(scripts).filter(([name]) => /^(start|migrate)(:|$)/.test(name));
    expect(launchers.length).toBeGreaterThanOrEqual(6);
    for (const [name, line] of launchers) expect([name, line]).toEqual([name, expect.stringMatching(/&& exec node \S+$/)]);
    // `npm test` says what it is doing before each step (the type check alone takes a minute).
    const steps = scripts['test'].split(' && ');
    steps.forEach((step, i) => {
      if (!step.startsWith('echo ')) expect([step, steps[i - 1]]).toEqual([step, expect.stringMatching(/^echo 'npm test \d\/\d: /)]);
    });
  });
});
