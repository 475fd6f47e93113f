import pino, { Logger } from 'pino';

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

export interface LoggerOptions {
  name: string;
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to inspect output. */
  destination?: pino.DestinationStream;
}

/** One structured JSON logger per process; children per component. */
export function createLogger({ name, level = 'info', destination }: LoggerOptions): Logger {
  const options: pino.LoggerOptions = {
    name,
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: name },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}
