import { HTTP_ERRORS } from './errors';
import { badRequest, ProblemError } from './problem';

/** The problem of a list's `cursor` that no page of this API returned; every paginated list answers it. */
export const invalidCursor = (): ProblemError => badRequest(HTTP_ERRORS.invalidCursor, 'cursor is not one this API returned');
