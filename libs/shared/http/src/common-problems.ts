import { badRequest, ProblemError } from './problem';

/** Problem codes every feature's HTTP API can answer, written here only. */
export const COMMON_ERRORS = {
  validationFailed: 'validation_failed',
  invalidCursor: 'invalid_cursor',
} as const;

/** A list's `cursor` that no page of this API returned (see @signet/persistence keyset pagination). */
export const invalidCursor = (): ProblemError => badRequest(COMMON_ERRORS.invalidCursor, 'cursor is not one this API returned');
