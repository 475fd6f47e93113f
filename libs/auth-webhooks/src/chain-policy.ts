import { CHAIN_STEPS, DEFAULT_CHAIN } from '@signet/mqtt-auth';

/** The edge's step names are the API's: one list, in @signet/mqtt-auth. */
export const CHAIN_STEP_NAMES = CHAIN_STEPS;
export const DEFAULT_CHAIN_STEPS = DEFAULT_CHAIN;

/** Null when the chain is acceptable; otherwise what is wrong with it. */
export function checkChain(steps: readonly string[]): string | null {
  if (steps.length === 0) return 'steps must name at least one step';
  const known = new Set<string>(CHAIN_STEP_NAMES);
  const unknown = steps.find((s) => !known.has(s));
  if (unknown !== undefined) return `unknown step "${unknown}"; steps are ${CHAIN_STEP_NAMES.join(', ')}`;
  if (new Set(steps).size !== steps.length) return 'a step may appear once';
  return null;
}
