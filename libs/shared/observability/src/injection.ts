/** Nest injection tokens for the process-wide logger and metrics; the HTTP app provides them. */
/** The root pino logger. */
export const LOGGER = Symbol('LOGGER');
/** The process's SignetMetrics. */
export const METRICS = Symbol('METRICS');
