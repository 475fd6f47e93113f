import type { Command } from 'commander';

import { CliError, EXIT } from '../errors';
import { Output } from '../output';
import { GlobalOptions, Session } from '../session';

/** The session and output of a command, from the global options (--profile, --server, --json). */
export function context(command: Command): { session: Session; out: Output } {
  const options = command.optsWithGlobals<GlobalOptions>();
  return { session: new Session(options), out: new Output(options.json === true) };
}

/** Repeatable options: `--scope a --scope b`. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function parseInteger(name: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new CliError(`${name} must be an integer ${min}..${max}, got ${value}`, EXIT.usage);
    return n;
  };
}

/** stdin as text, its last newline dropped: secrets come this way, never as arguments (they would show in `ps`). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** A path segment of the API. */
export const seg = (value: string): string => encodeURIComponent(value);

/** `?a=1&b=2` from the values that are set. */
export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) search.set(k, String(v));
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** Every page of a list endpoint (`next_cursor`), or only the first with `all` false. */
export async function pages<T>(session: Session, path: (cursor?: string) => string, key: string, all: boolean): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await session.api<Record<string, unknown> & { next_cursor?: string | null }>('GET', path(cursor));
    items.push(...((page[key] as T[] | undefined) ?? []));
    cursor = page.next_cursor ?? undefined;
  } while (all && cursor !== undefined);
  return items;
}
