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
  /** A list's `cursor` that no page of this API returned (keyset pagination, @signet/persistence). */
  invalidCursor: 'invalid_cursor',
  internalError: 'internal_error',
  /** PostgreSQL could not be reached, or did not answer within its deadlines (503, Retry-After). */
  databaseUnavailable: 'database_unavailable',
  /** The request was not completed within SIGNET_REQUEST_TIMEOUT_MS (503, Retry-After). */
  requestTimeout: 'request_timeout',
  /** 400: an Idempotency-Key that is not 1 to 255 visible ASCII characters. */
  invalidIdempotencyKey: 'invalid_idempotency_key',
  /** 422: an Idempotency-Key already used by this API key with another request body. */
  idempotencyKeyReused: 'idempotency_key_reused',
  /** 409: the first request with this Idempotency-Key is still being served. */
  idempotencyKeyInProgress: 'idempotency_key_in_progress',
} as const;
export type HttpErrorCode = (typeof HTTP_ERRORS)[keyof typeof HTTP_ERRORS];
