/**
 * Log lines for a person at a terminal: `12:00:01.234 WARN  [revocation-bus] message  key=value`.
 * It reads the JSON pino has already written, so redaction ([redacted]) is the same in both formats.
 */

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLORS: Record<number, string> = { 10: '90', 20: '90', 30: '36', 40: '33', 50: '31', 60: '35' };
const ERROR_LEVEL = 50;
/** Fields every line has, or that the line shows in its own place. */
const SHOWN_APART = new Set(['level', 'time', 'msg', 'component', 'err', 'service', 'name', 'pid', 'hostname']);

export interface PrettyOptions {
  /** ANSI colours for the level (a terminal); off for files and pipes. */
  colors?: boolean;
}

interface LoggedError {
  type?: string;
  message?: string;
  stack?: string;
  code?: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

function time(t: unknown): string {
  const clock = typeof t === 'string' ? /T(\d\d:\d\d:\d\d\.\d{3})/.exec(t) : null;
  if (clock) return clock[1];
  if (typeof t === 'number') return new Date(t).toISOString().slice(11, 23);
  return '--:--:--.---';
}

/** One JSON log line as one (or, for an error's stack, several) human lines, with its newline. */
export function prettyLine(json: string, { colors = false }: PrettyOptions = {}): string {
  let entry: unknown;
  try {
    entry = JSON.parse(json);
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  if (!isRecord(entry)) return `${json.trimEnd()}\n`;
  const level = typeof entry['level'] === 'number' ? entry['level'] : 30;
  const label = (LEVELS[level] ?? String(level)).padEnd(5);
  const shownLevel = colors ? `\x1b[${COLORS[level] ?? '0'}m${label}\x1b[0m` : label;
  const component = typeof entry['component'] === 'string' ? ` [${entry['component']}]` : '';
  const msg = typeof entry['msg'] === 'string' ? entry['msg'] : '';
  const fields = Object.entries(entry)
    .filter(([k, v]) => !SHOWN_APART.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${value(v)}`);
  let line = `${time(entry['time'])} ${shownLevel}${component} ${msg}${fields.length ? `  ${fields.join(' ')}` : ''}`;
  const err = entry['err'];
  if (isRecord(err)) {
    const e = err as LoggedError;
    line += `  err=${value(e.message ?? e.type ?? 'error')}${e.code ? ` code=${e.code}` : ''}`;
    // The stack helps whoever has to fix an error; for a warning the message is enough.
    if (level >= ERROR_LEVEL && typeof e.stack === 'string') {
      line += `\n${e.stack
        .split('\n')
        .slice(1)
        .map((s) => `    ${s.trim()}`)
        .join('\n')}`;
    }
  } else if (err !== undefined) {
    line += `  err=${value(err)}`;
  }
  return `${line}\n`;
}

/** A pino destination that writes `prettyLine`s to `out`. */
export function prettyDestination(out: { write(text: string): unknown }, options: PrettyOptions = {}): { write(line: string): void } {
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line.trim() !== '') out.write(prettyLine(line, options));
    },
  };
}
