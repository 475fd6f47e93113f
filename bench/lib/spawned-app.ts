import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

import type { Env } from '@signet/config';

/** The repository: the first folder up with a package.json (this file runs from bench/lib and from dist/bench/lib). */
function repositoryRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, 'package.json'))) return dir;
  throw new Error(`no package.json above ${from}`);
}

export const ROOT = repositoryRoot(__dirname);
export type AppName = 'signet' | 'token-service' | 'mqtt-edge' | 'apikey-service' | 'idp-federation' | 'directory-sync' | 'auth-webhooks';
export const appEntry = (app: AppName) => join(ROOT, 'dist', 'apps', app, 'src', 'main.js');

/** A Signet app running as its own OS process (built by `npm run build`). */
export class SpawnedApp {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  private constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** `cores`: a `taskset -c` core list to pin it to (taskset execs node: the child's pid is the app's). */
  static start(app: AppName, env: Env, cores: string | null = null): SpawnedApp {
    const [command, args] = cores === null ? [process.execPath, [appEntry(app)]] : ['taskset', ['-c', cores, process.execPath, appEntry(app)]];
    const child = spawn(command, args, {
      env: { PATH: process.env['PATH'], ...env } as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new SpawnedApp(child);
  }

  /** Resolves once the banner is out; rejects if the process exits first. */
  async ready(timeoutMs = 30000): Promise<this> {
    const deadline = Date.now() + timeoutMs;
    let exitCode: number | null | undefined;
    void this.exited.then((c) => (exitCode = c));
    // The banner is written in one write, so once its first line is here, all of it is. That line is
    // "<name> is ready", or "<name> is listening, not ready yet: …" while /readyz still says 503.
    while (!/ is (ready|listening, not ready yet: .*)\n/.test(this.stdout)) {
      if (exitCode !== undefined) throw new Error(`exited with ${exitCode}: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`not ready in time: ${this.stdout}${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return this;
  }

  /** A port from the banner, e.g. port('MQTT'). */
  port(label: 'HTTP API' | 'MQTT' | 'WebSocket' | 'gRPC'): number {
    const m = new RegExp(`^  ${label}\\s+\\S*?:(\\d+)`, 'm').exec(this.stdout);
    if (!m) throw new Error(`no ${label} address in: ${this.stdout}`);
    return Number(m[1]);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}
