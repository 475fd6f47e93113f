/** Nest injection token for the started RevocationBus; the process composition provides it. */
export const REVOCATION_BUS = Symbol('REVOCATION_BUS');
