/**
 * Errors every HTTP endpoint can raise. Each carries a stable `code` that
 * clients switch on (never the message text), the HTTP status, and a detail
 * that is safe to show: internals never leak. Rendered as RFC 9457
 * `application/problem+json` by {@link ProblemFilter}.
 */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    /** Extra members of the problem document, e.g. `errors` for validation. */
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'ProblemError';
  }
}

export const badRequest = (code: string, detail: string, extensions?: Record<string, unknown>): ProblemError =>
  new ProblemError(400, code, detail, extensions);
export const unauthorized = (code: string, detail: string): ProblemError =>
  new ProblemError(401, code, detail, {}, { 'www-authenticate': 'Bearer' });
export const forbidden = (code: string, detail: string): ProblemError => new ProblemError(403, code, detail);
export const notFound = (code: string, detail: string): ProblemError => new ProblemError(404, code, detail);
export const conflict = (code: string, detail: string): ProblemError => new ProblemError(409, code, detail);
/** `Retry-After` (whole seconds, at least 1) in the header and as `retry_after_seconds` in the body. */
function retryLater(status: number, code: string, detail: string, retryAfterMs: number): ProblemError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new ProblemError(status, code, detail, { retry_after_seconds: seconds }, { 'retry-after': String(seconds) });
}
/** 429 with `Retry-After`. */
export const tooManyRequests = (code: string, detail: string, retryAfterMs: number): ProblemError => retryLater(429, code, detail, retryAfterMs);
/** 503; with `retryAfterMs`, also `Retry-After` as for 429. */
export const serviceUnavailable = (code: string, detail: string, retryAfterMs?: number): ProblemError =>
  retryAfterMs === undefined ? new ProblemError(503, code, detail) : retryLater(503, code, detail, retryAfterMs);

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function toProblemDocument(error: ProblemError): ProblemDocument {
  return {
    type: `https://signet.dev/problems/${error.code}`,
    title: TITLES[error.status] ?? 'Error',
    status: error.status,
    code: error.code,
    detail: error.detail,
    ...error.extensions,
  };
}
