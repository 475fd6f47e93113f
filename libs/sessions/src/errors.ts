import { badRequest, notFound, ProblemError } from '@signet/http';

/** The live-sessions feature's problem codes, each written once here (invalid_cursor is HTTP_ERRORS'). */
export const SESSION_ERRORS = {
  sessionNotFound: 'session_not_found',
  invalidClientId: 'invalid_client_id',
  invalidUserId: 'invalid_user_id',
} as const;

export type SessionErrorCode = (typeof SESSION_ERRORS)[keyof typeof SESSION_ERRORS];

export const sessionNotFound = (clientId: string): ProblemError =>
  notFound(SESSION_ERRORS.sessionNotFound, `no live MQTT session with client id ${JSON.stringify(clientId)} in this org`);

export const invalidClientId = (): ProblemError => badRequest(SESSION_ERRORS.invalidClientId, 'client_id must be 1 to 256 characters, without U+0000');

export const invalidUserId = (): ProblemError => badRequest(SESSION_ERRORS.invalidUserId, 'user_id must be 1 to 256 characters, without U+0000');
