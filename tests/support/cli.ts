import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

import { chromium, type Browser } from 'playwright-core';

import { ROOT } from './spawn';

/** One run of the real `signet` CLI (bin/signet.js, a child process): its output so far, and its exit. */
export class Cli {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Runs the CLI with `env` only (plus PATH); `stdin` is written and closed when given. */
  static run(args: string[], env: Record<string, string | undefined>, stdin?: string): Cli {
    const run = new Cli(
      spawn(process.execPath, [join(ROOT, 'bin', 'signet.js'), ...args], {
        env: { PATH: process.env['PATH'], ...env },
        stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      }),
    );
    if (stdin !== undefined) run.child.stdin!.end(stdin);
    return run;
  }

  async result(): Promise<{ code: number | null; json: unknown; stderr: string }> {
    const code = await this.exited;
    let json: unknown;
    try {
      json = JSON.parse(this.stdout);
    } catch {
      json = undefined;
    }
    return { code, json, stderr: this.stderr };
  }
}

/** Debian's Chromium (.ci/run installs it). */
export const CHROMIUM = '/usr/bin/chromium';

/** Debian's Chromium, headless, as every browser test here runs it. */
export const launchChromium = (): Promise<Browser> =>
  chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
