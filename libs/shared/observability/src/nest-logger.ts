import type { Logger } from 'pino';

const FAILED_LISTEN = /\blisten E[A-Z]+\b/;

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
    const text = String(message);
    // Nest logs a failed listen before rejecting; the caller reports that rejection as the variable to change
    // (listenHttp), so at error level the line would only precede the real message with a second, raw one.
    const level = context === 'NestApplication' && FAILED_LISTEN.test(text) ? 'debug' : 'error';
    this.logger[level]({ context, trace }, text);
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
