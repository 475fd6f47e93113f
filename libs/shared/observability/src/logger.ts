import pino, { Logger } from 'pino';

import { prettyDestination } from './pretty';

export type { Logger } from 'pino';

/**
 * Fields that may hold a secret anywhere in a log object. pino replaces them
 * with "[redacted]" before a line is written: no tkn_, rt_, sk_/rk_ or
 * Authorization header ever reaches a log.
 */
export const REDACTED_PATHS = [
  'password',
  'token',
  'refresh_token',
  'apiKey',
  'api_key',
  'key',
  'secret',
  'authorization',
  '*.password',
  '*.token',
  '*.refresh_token',
  '*.apiKey',
  '*.api_key',
  '*.key',
  '*.secret',
  '*.authorization',
  'req.headers.authorization',
  'headers.authorization',
];

/**
 * `json`: one JSON object a line, for collectors; `pretty`: a line for a person; `auto`: pretty when the
 * output is a terminal, JSON otherwise (the usual pino split, without pino-pretty).
 */
export type LogFormat = 'auto' | 'json' | 'pretty';

export interface LoggerOptions {
  name: string;
  level?: string;
  format?: LogFormat;
  /**
   * Where lines go; defaults to stderr, so stdout carries only what a process says to people (its
   * banner). Tests pass a stream to inspect output.
   */
  destination?: pino.DestinationStream;
}

/** One structured logger per process; children per component. */
export function createLogger({ name, level = 'info', format = 'json', destination }: LoggerOptions): Logger {
  const options: pino.LoggerOptions = {
    name,
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: name },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const pretty = format === 'pretty' || (format === 'auto' && !destination && process.stderr.isTTY === true);
  if (pretty) {
    const out = destination ?? process.stderr;
    return pino(options, prettyDestination(out, { colors: !destination && process.stderr.hasColors?.() === true }));
  }
  return pino(options, destination ?? pino.destination({ dest: 2, sync: true }));
}
