import { AsyncResource } from 'node:async_hooks';

import type { FastifyInstance, FastifyRequest } from 'fastify';

import { runWithDeadline } from '@signet/persistence';

import { requestTimedOut, sendProblem } from './problem.filter';

/**
 * Carries the request's deadline through the async calls that serve it: with
 * `timeoutMs`, every request is answered within `timeoutMs` of its arrival: a
 * request still in progress then gets 503 `request_timeout` (with
 * `Retry-After`), and the work it started sees the
 * deadline (`currentDeadline()`, read by `inTransaction`), so it rolls back
 * rather than commit for a caller who has already been answered.
 */
export function installRequestContext(fastify: FastifyInstance, timeoutMs?: number): void {
  if (timeoutMs === undefined) return;
  // The work of a request continues in the async context of req.emit('end') once the body is read, not in
  // the one of its onRequest hook, so the context is carried over explicitly (as @fastify/request-context does).
  const contexts = new WeakMap<FastifyRequest, AsyncResource>();
  fastify.addHook('onRequest', (req, reply, done) => {
    const enter = (): void => {
      const context = new AsyncResource('signet-request');
      contexts.set(req, context);
      context.runInAsyncScope(done);
    };
    const timer = setTimeout(() => sendProblem(reply, requestTimedOut()), timeoutMs);
    reply.raw.once('close', () => clearTimeout(timer));
    runWithDeadline(Date.now() + timeoutMs, enter);
  });
  fastify.addHook('preValidation', (req, _reply, done) => {
    const context = contexts.get(req);
    if (context) context.runInAsyncScope(done);
    else done();
  });
}
