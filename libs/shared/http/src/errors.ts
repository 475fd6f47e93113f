/**
 * The problem codes the HTTP layer itself produces (framework errors, body
 * parsing and validation, the deadlines), each listed once; features list
 * their own in their errors.ts.
 */
export const HTTP_ERRORS = {
  badRequest: 'bad_request',
  unauthorized: 'unauthorized',
  forbidden: 'forbidden',
  notFound: 'not_found',
  methodNotAllowed: 'method_not_allowed',
  payloadTooLarge: 'payload_too_large',
  unsupportedMediaType: 'unsupported_media_type',
  tooManyRequests: 'too_many_requests',
  /** 408: the client did not send its request in time. */
  clientTimeout: 'client_timeout',
  invalidUrl: 'invalid_url',
  uriTooLong: 'uri_too_long',
  headersTooLarge: 'headers_too_large',
  malformedJson: 'malformed_json',
  validationFailed: 'validation_failed',
  internalError: 'internal_error',
  /** PostgreSQL could not be reached, or did not answer within its deadlines (503, Retry-After). */
  databaseUnavailable: 'database_unavailable',
  /** The request was not completed within SIGNET_REQUEST_TIMEOUT_MS (503, Retry-After). */
  requestTimeout: 'request_timeout',
} as const;
export type HttpErrorCode = (typeof HTTP_ERRORS)[keyof typeof HTTP_ERRORS];
