/**
 * Nest injection tokens for the process-wide objects every feature module
 * uses. The apps provide them (see apps/*\/src/main.ts); features inject them.
 */
/** The validated SignetConfig (@signet/config). */
export const SIGNET_CONFIG = Symbol('SIGNET_CONFIG');
/** The TypeORM DataSource (@signet/persistence), initialised and migrated. */
export const DATA_SOURCE = Symbol('DATA_SOURCE');
/** The RevocationBus (@signet/revocation), started. */
export const REVOCATION_BUS = Symbol('REVOCATION_BUS');
/** The SecretBox (@signet/persistence) that encrypts recoverable secrets at rest. */
export const SECRET_BOX = Symbol('SECRET_BOX');
/** The root pino logger (@signet/observability). */
export const LOGGER = Symbol('LOGGER');
