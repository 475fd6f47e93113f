/**
 * The slice of a pino logger the data layer needs. Structural, so the root
 * pino logger the apps provide (LOGGER) fits without this library depending
 * on pino or on @signet/observability.
 */
export interface MinimalLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Used when no logger is given: the data layer stays quiet rather than writing to stdout. */
export const SILENT_LOGGER: MinimalLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
