import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';

import { toProblem } from '@signet/http';
import { LOGGER } from '@signet/observability';

import { ScimError } from '../errors';
import { SCIM_CONTENT_TYPE } from '../scim/scim-resources';

/**
 * SCIM routes answer SCIM error bodies (RFC 7644 §3.12), not problem+json:
 * IdPs read `status`, `scimType` and `detail`. Anything unexpected goes
 * through the platform's mapping (logged, generic 500, 503 on a database outage).
 */
@Catch()
export class ScimErrorFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (reply.sent) return;
    let scim: ScimError;
    let headers: Record<string, string> = {};
    if (error instanceof ScimError) {
      scim = error;
    } else if (error instanceof HttpException && error.getStatus() < 500) {
      scim = new ScimError(error.getStatus(), error.message);
    } else {
      const problem = toProblem(error, this.logger);
      scim = new ScimError(problem.status, problem.detail);
      headers = problem.headers;
    }
    void reply.status(scim.status).headers(headers).header('content-type', SCIM_CONTENT_TYPE).send(JSON.stringify(scim.body()));
  }
}
