/** Nest injection token for the validated SignetConfig; the process composition provides it. */
export const SIGNET_CONFIG = Symbol('SIGNET_CONFIG');
