import type { Logger } from 'pino';

/**
 * Nest's LoggerService over pino, so framework messages are structured JSON
 * like ours. Structural typing keeps this library free of NestJS.
 */
export class PinoNestLogger {
  constructor(private readonly logger: Logger) {}

  /** Nest's "log" level is its start-up chatter (modules, routes): debug for us. */
  log(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}
