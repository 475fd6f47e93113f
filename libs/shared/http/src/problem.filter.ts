import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

import { DeadlineExceededError, isDatabaseUnavailable } from '@signet/persistence';

import { HTTP_ERRORS } from './errors';
import { PROBLEM_CONTENT_TYPE, ProblemError, serviceUnavailable, toProblemDocument } from './problem';

/** Stable codes for errors raised by the framework rather than by Signet code. */
const FRAMEWORK_CODES: Record<number, string> = {
  400: HTTP_ERRORS.badRequest,
  401: HTTP_ERRORS.unauthorized,
  403: HTTP_ERRORS.forbidden,
  404: HTTP_ERRORS.notFound,
  405: HTTP_ERRORS.methodNotAllowed,
  408: HTTP_ERRORS.clientTimeout,
  413: HTTP_ERRORS.payloadTooLarge,
  414: HTTP_ERRORS.uriTooLong,
  415: HTTP_ERRORS.unsupportedMediaType,
  429: HTTP_ERRORS.tooManyRequests,
  431: HTTP_ERRORS.headersTooLarge,
};

/** Fastify's own errors (raised before a handler runs) that deserve a specific code. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: HTTP_ERRORS.malformedJson,
  FST_ERR_CTP_EMPTY_JSON_BODY: HTTP_ERRORS.malformedJson,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: HTTP_ERRORS.unsupportedMediaType,
  FST_ERR_CTP_BODY_TOO_LARGE: HTTP_ERRORS.payloadTooLarge,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: HTTP_ERRORS.badRequest,
  FST_ERR_BAD_URL: HTTP_ERRORS.invalidUrl,
  FST_ERR_MAX_PARAM_LENGTH: HTTP_ERRORS.uriTooLong,
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

export const databaseUnavailable = (): ProblemError =>
  serviceUnavailable(HTTP_ERRORS.databaseUnavailable, 'the database is unavailable; retry later', RETRY_AFTER_MS);
export const requestTimedOut = (): ProblemError =>
  serviceUnavailable(HTTP_ERRORS.requestTimeout, 'the request was not completed in time; retry later', RETRY_AFTER_MS);

/** During an outage every request fails alike: one log line per interval says so, with how many it stands for. */
const OUTAGE_LOG_INTERVAL_MS = 5000;
let outageLoggedAt = Number.NEGATIVE_INFINITY;
let outageUnlogged = 0;

function logOutage(logger: Logger | undefined, error: unknown): void {
  const now = Date.now();
  if (now - outageLoggedAt < OUTAGE_LOG_INTERVAL_MS) {
    outageUnlogged++;
    return;
  }
  logger?.warn({ err: error, alike_since_last: outageUnlogged }, 'database unavailable while serving a request');
  outageLoggedAt = now;
  outageUnlogged = 0;
}

/**
 * Maps anything thrown while handling a request to an RFC 9457 problem
 * document. Only ProblemError details are shown to the caller; anything
 * unexpected becomes a generic 500 and is logged, so internals never leak.
 */
export function toProblem(error: unknown, logger?: Logger): ProblemError {
  if (error instanceof ProblemError) return error;
  if (error instanceof DeadlineExceededError) return requestTimedOut();
  if (isDatabaseUnavailable(error)) {
    logOutage(logger, error);
    return databaseUnavailable();
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    if (status < 500) {
      return new ProblemError(status, FRAMEWORK_CODES[status] ?? HTTP_ERRORS.badRequest, error.message);
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
      FRAMEWORK_CODES[fastifyError.statusCode] ?? HTTP_ERRORS.badRequest,
      String(fastifyError.message),
    );
  }
  logger?.error({ err: error }, 'unhandled error while serving a request');
  return new ProblemError(500, HTTP_ERRORS.internalError, 'an internal error occurred');
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

/** Fastify's `frameworkErrors`: errors raised before a route runs (a malformed URL, a path parameter too long). */
export const frameworkErrorProblem =
  (logger?: Logger) =>
  (error: FastifyError, _req: FastifyRequest, reply: FastifyReply): void =>
    sendProblem(reply, toProblem(error, logger));

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
