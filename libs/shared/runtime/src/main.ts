import { ConfigError, loadConfig, SignetConfig } from '@signet/config';

import type { SignetProcess } from './process';

/**
 * The shared `main` of every app: validate the environment, start, print
 * the addresses, and stop cleanly on SIGINT/SIGTERM (a second signal forces).
 */
export async function runMain(name: string, start: (config: SignetConfig) => Promise<SignetProcess>): Promise<void> {
  let proc: SignetProcess;
  try {
    proc = await start(loadConfig());
  } catch (err) {
    const message = err instanceof ConfigError || err instanceof Error ? err.message : String(err);
    process.stderr.write(`${name}: failed to start: ${message}\n`);
    process.exitCode = 1;
    return;
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`${name}: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    process.stdout.write(`${name}: ${signal} received, stopping\n`);
    proc.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`${name}: error while stopping: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // Only now: a supervisor (or a test) that signals as soon as it reads the banner must find the handlers
  // in place; written before them, a SIGTERM could still hit Node's default action and kill the process.
  process.stdout.write([`${name} is ready`, ...proc.banner, ''].join('\n'));
}
