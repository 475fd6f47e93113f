import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';

import { DeadlineExceededError, isDatabaseUnavailable } from '@signet/persistence';

import { PROBLEM_CONTENT_TYPE, ProblemError, serviceUnavailable, toProblemDocument } from './problem';

/** Stable codes for errors raised by the framework rather than by Signet code. */
const FRAMEWORK_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  431: 'headers_too_large',
};

/** Fastify's own errors (raised before a handler runs) that deserve a specific code. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_BAD_URL: 'invalid_url',
  FST_ERR_MAX_PARAM_LENGTH: 'uri_too_long',
};

/** Fixed texts where Fastify's message would echo the input back (the body, a long path). */
const FASTIFY_DETAILS: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'request body is not valid JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'request body is not valid JSON',
  FST_ERR_BAD_URL: 'the request URL is not valid (a malformed percent-encoding?)',
  FST_ERR_MAX_PARAM_LENGTH: 'a path parameter is too long',
};

/** How long a caller is told to wait after a 503 (`Retry-After`): about one pool-acquire deadline. */
export const RETRY_AFTER_MS = 5000;

export const DATABASE_UNAVAILABLE = 'database_unavailable';
/** A request not answered within SIGNET_REQUEST_TIMEOUT_MS. */
export const REQUEST_TIMEOUT = 'request_timeout';

export const databaseUnavailable = (): ProblemError =>
  serviceUnavailable(DATABASE_UNAVAILABLE, 'the database is unavailable; retry later', RETRY_AFTER_MS);
export const requestTimedOut = (): ProblemError =>
  serviceUnavailable(REQUEST_TIMEOUT, 'the request was not completed in time; nothing was changed, retry later', RETRY_AFTER_MS);

/**
 * Maps anything thrown while handling a request to an RFC 9457 problem
 * document. Only ProblemError details are shown to the caller; anything
 * unexpected becomes a generic 500 and is logged, so internals never leak.
 */
export function toProblem(error: unknown, logger?: Logger): ProblemError {
  if (error instanceof ProblemError) return error;
  if (error instanceof DeadlineExceededError) return requestTimedOut();
  if (isDatabaseUnavailable(error)) {
    logger?.warn({ err: error }, 'database unavailable while serving a request');
    return databaseUnavailable();
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    if (status < 500) {
      return new ProblemError(status, FRAMEWORK_CODES[status] ?? 'bad_request', error.message);
    }
  }
  const fastifyError = error as { code?: string; statusCode?: number; message?: string } | undefined;
  if (fastifyError?.code && fastifyError.code in FASTIFY_CODES && fastifyError.statusCode) {
    const detail = FASTIFY_DETAILS[fastifyError.code] ?? String(fastifyError.message);
    return new ProblemError(fastifyError.statusCode, FASTIFY_CODES[fastifyError.code], detail);
  }
  if (fastifyError?.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return new ProblemError(
      fastifyError.statusCode,
      FRAMEWORK_CODES[fastifyError.statusCode] ?? 'bad_request',
      String(fastifyError.message),
    );
  }
  logger?.error({ err: error }, 'unhandled error while serving a request');
  return new ProblemError(500, 'internal_error', 'an internal error occurred');
}

export function sendProblem(reply: FastifyReply, problem: ProblemError): void {
  // Already answered (e.g. 503 at the request deadline): the late outcome has no one to go to.
  if (reply.sent) return;
  void reply
    .status(problem.status)
    .headers(problem.headers)
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(toProblemDocument(problem)));
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(private readonly logger?: Logger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    sendProblem(reply, toProblem(error, this.logger));
  }
}

/**
 * Errors Node's HTTP parser raises before Fastify has a request (a header
 * block over the limit, a malformed request line, the request timeout):
 * answered on the raw socket, in the same problem+json shape, then closed.
 */
export function clientErrorProblem(err: Error & { code?: string }, socket: Socket): void {
  // A reset connection has no one to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const detail =
    status === 431 ? 'the request headers are too large' : status === 408 ? 'the request was not received in time' : 'the request is not valid HTTP';
  const body = JSON.stringify(toProblemDocument(new ProblemError(status, FRAMEWORK_CODES[status], detail)));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
