import { randomBytes } from 'node:crypto';

import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { ApiKeyRequest } from '@signet/api-keys';
import { PROBLEM_CONTENT_TYPE } from '@signet/http';

import { AUDIT_RECORDER, type AuditRecorder } from '../audit-event';
import { adminAction, createdId } from './admin-actions';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const REQUEST_ID_HEADER = 'x-request-id';
const REQUEST_ID_SHAPE = /^[A-Za-z0-9._:-]{1,128}$/;
/** A response bigger than this is not parsed for the created id. */
const MAX_PARSED_BODY = 64 * 1024;

interface Seen {
  requestId: string;
  problemCode: string | null;
  created: string | null;
}

/**
 * Records every mutating `/v1` call once, for every controller, with two
 * Fastify hooks: `onSend` notes the problem code (or the created id) from the
 * answer, `onResponse` records who (the API key or the account and its role,
 * as the guard established them), what (the action of the route), the target
 * (the route's id parameter, else the created id), the outcome with the HTTP
 * status and problem code, the client address (`request.ip`, which honours
 * SIGNET_TRUSTED_PROXIES), the request id (`X-Request-Id`, made when absent
 * and sent back) and how long it took. Bodies are never recorded. A call
 * refused before anyone authenticated has no org to file it under and is not
 * recorded (it would let anyone fill the log; it is in the HTTP metrics).
 */
@Injectable()
export class AdminAuditHook implements OnModuleInit {
  private readonly seen = new WeakMap<FastifyRequest, Seen>();

  constructor(
    private readonly host: HttpAdapterHost,
    @Inject(AUDIT_RECORDER) private readonly recorder: AuditRecorder,
  ) {}

  onModuleInit(): void {
    const fastify = this.host.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return;
    fastify.addHook('onSend', (req: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void) => {
      if (audited(req)) this.note(req, reply, payload);
      done(null, payload);
    });
    fastify.addHook('onResponse', (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
      if (audited(req)) this.record(req as ApiKeyRequest, reply);
      done();
    });
  }

  private note(req: FastifyRequest, reply: FastifyReply, payload: unknown): void {
    const header = req.headers[REQUEST_ID_HEADER];
    const requestId = typeof header === 'string' && REQUEST_ID_SHAPE.test(header) ? header : `req_${randomBytes(8).toString('hex')}`;
    reply.header(REQUEST_ID_HEADER, requestId);
    const body = typeof payload === 'string' && payload.length <= MAX_PARSED_BODY ? parse(payload) : undefined;
    const contentType = String(reply.getHeader('content-type') ?? '');
    const problemCode = contentType.startsWith(PROBLEM_CONTENT_TYPE) && body && typeof (body as { code?: unknown }).code === 'string' ? (body as { code: string }).code : null;
    this.seen.set(req, { requestId, problemCode, created: reply.statusCode < 300 ? createdId(body) : null });
  }

  private record(req: ApiKeyRequest, reply: FastifyReply): void {
    const caller = req.apiKey;
    const session = req.session;
    // A route behind a guard of sign-in sessions only may set the session alone.
    if (!caller && !session) return;
    const seen = this.seen.get(req);
    const route = req.routeOptions.url!;
    const status = reply.statusCode;
    const ok = status < 400;
    const actor = session ? { kind: 'account', id: session.accountId } : { kind: 'api_key', id: caller!.keyId };
    this.recorder.record({
      type: 'admin',
      orgId: session?.orgId ?? caller!.orgId,
      actor,
      action: adminAction(req.method, route),
      target: firstParam(req.params) ?? seen?.created ?? null,
      outcome: ok ? 'success' : 'failure',
      address: req.ip,
      reasonCode: ok ? null : (seen?.problemCode ?? `http_${status}`),
      durationMs: Math.round(reply.elapsedTime * 1000) / 1000,
      requestId: seen?.requestId ?? null,
      details: { method: req.method, route, status, role: session ? session.role : caller!.type },
    });
  }
}

function audited(req: FastifyRequest): boolean {
  const route = req.routeOptions.url;
  return MUTATING.has(req.method) && route !== undefined && route.startsWith('/v1/');
}

function firstParam(params: unknown): string | null {
  if (typeof params !== 'object' || params === null) return null;
  for (const value of Object.values(params)) if (typeof value === 'string' && value !== '') return value;
  return null;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
