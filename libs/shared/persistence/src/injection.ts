/** Nest injection tokens for this library's process-wide objects; the process composition provides them. */
/** The TypeORM DataSource, initialised and migrated. */
export const DATA_SOURCE = Symbol('DATA_SOURCE');
/** The SecretBox that encrypts recoverable secrets at rest. */
export const SECRET_BOX = Symbol('SECRET_BOX');
