import { ConfigError, loadConfig, SignetConfig } from '@signet/config';

import type { Readiness, SignetProcess } from './process';

/** How often a process that started not ready checks again, to say when it is. */
const READINESS_POLL_MS = 500;

const notReady = (r: Readiness): string =>
  Object.entries(r.checks)
    .filter(([, c]) => !c.ok)
    .map(([name, c]) => (c.detail ? `${name} (${c.detail})` : name))
    .join(', ');

/**
 * The shared `main` of every app: validate the environment, start, print
 * the addresses, and stop cleanly on SIGINT/SIGTERM (a second signal forces).
 *
 * stdout carries what the process says to people: "<name> is ready" (only once
 * /readyz would say so), the banner, and "stopping"; logs and errors go to
 * stderr, so neither gets in the way of the other.
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
  let poll: NodeJS.Timeout | undefined;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`${name}: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    clearTimeout(poll);
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
  const readiness = proc.readiness;
  const first = readiness ? await readiness() : null;
  if (!readiness || !first || first.ready) {
    process.stdout.write([`${name} is ready`, ...proc.banner, ''].join('\n'));
    return;
  }
  process.stdout.write([`${name} is listening, not ready yet: waiting for ${notReady(first)}`, ...proc.banner, ''].join('\n'));
  const check = () => {
    poll = setTimeout(() => {
      void readiness().then(
        (r) => (stopping ? undefined : r.ready ? process.stdout.write(`${name} is ready\n`) : check()),
        () => check(),
      );
    }, READINESS_POLL_MS);
  };
  check();
}
