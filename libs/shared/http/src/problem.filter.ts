import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';

import { PROBLEM_CONTENT_TYPE, ProblemError, toProblemDocument } from './problem';

/** Stable codes for errors raised by the framework rather than by Signet code. */
const FRAMEWORK_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
};

/** Fastify's own errors (raised before a handler runs) that deserve a specific code. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
};

/**
 * Maps anything thrown while handling a request to an RFC 9457 problem
 * document. Only ProblemError details are shown to the caller; anything
 * unexpected becomes a generic 500 and is logged, so internals never leak.
 */
export function toProblem(error: unknown, logger?: Logger): ProblemError {
  if (error instanceof ProblemError) return error;
  if (error instanceof HttpException) {
    const status = error.getStatus();
    if (status < 500) {
      return new ProblemError(status, FRAMEWORK_CODES[status] ?? 'bad_request', error.message);
    }
  }
  const fastifyError = error as { code?: string; statusCode?: number; message?: string } | undefined;
  if (fastifyError?.code && fastifyError.code in FASTIFY_CODES && fastifyError.statusCode) {
    const detail =
      FASTIFY_CODES[fastifyError.code] === 'malformed_json' ? 'request body is not valid JSON' : String(fastifyError.message);
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
