export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface CapturedLog {
  level: LogLevel;
  msg: string;
  fields: Record<string, unknown>;
}

/** pino-shaped `(fields, msg)` logger that records instead of printing. */
export interface CapturingLogger {
  debug(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
  readonly logs: CapturedLog[];
  /** Records whose message contains `text`, optionally of one level. */
  find(text: string, level?: LogLevel): CapturedLog[];
  clear(): void;
}

/**
 * A logger for tests: keeps jest output clean during deliberate outages and
 * lets tests assert that an outage was reported. Set SIGNET_TEST_LOG=1 to also
 * print.
 */
export function createCapturingLogger(): CapturingLogger {
  const logs: CapturedLog[] = [];
  const echo = process.env['SIGNET_TEST_LOG'] === '1';
  const record =
    (level: LogLevel) =>
    (fields: Record<string, unknown>, msg: string): void => {
      logs.push({ level, msg, fields });
      if (echo) process.stderr.write(`[${level}] ${msg} ${JSON.stringify(fields)}\n`);
    };
  return {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
    logs,
    find: (text, level) => logs.filter((l) => l.msg.includes(text) && (level === undefined || l.level === level)),
    clear: () => {
      logs.length = 0;
    },
  };
}
