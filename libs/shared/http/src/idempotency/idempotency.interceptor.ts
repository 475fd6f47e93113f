import { createHash } from 'node:crypto';

import { applyDecorators, CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor, UseInterceptors } from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { ApiConflictResponse, ApiHeader, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { from, lastValueFrom, Observable } from 'rxjs';
import type { DataSource } from 'typeorm';

import { DATA_SOURCE, SECRET_BOX, type SecretBox } from '@signet/persistence';

import { HTTP_ERRORS } from '../errors';
import { badRequest, conflict, ProblemError } from '../problem';
import { type IdempotencyRepository, TypeOrmIdempotencyRepository } from './idempotency.repository';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** Set on a response that is the stored answer to an earlier request (as Stripe's API does). */
export const IDEMPOTENT_REPLAYED_HEADER = 'idempotent-replayed';
/** A key is kept this long after its first use. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
/**
 * A key left in progress longer than this was held by a process that died before answering: a retry
 * takes it over. Longer than any request deadline, so a request still running is never taken over.
 */
export const IDEMPOTENCY_STALE_MS = 5 * 60 * 1000;
const PRUNE_EVERY_MS = 3600 * 1000;
const KEY_SHAPE = /^[\x21-\x7e]{1,255}$/;

/** Who a key belongs to: the API key the guard authenticated (keys of two callers never collide). */
interface AuthenticatedRequest extends FastifyRequest {
  apiKey?: { orgId: string; keyId: string };
}

/** JSON with object keys sorted, so that the same body sent with its members in another order is the same request. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Idempotency-Key on a POST that creates something (as payment APIs do): the first request with a key
 * runs and its response is stored; a retry with the same key and body gets that response again
 * (`Idempotent-Replayed: true`); the same key with another body is 422 `idempotency_key_reused`; a retry
 * while the first is still running is 409 `idempotency_key_in_progress`. Keys are per API key and last
 * 24 h. Failed requests are not stored: a retry runs again. Stored bodies are sealed (they hold secrets
 * shown once). Applied with {@link Idempotent}.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly repository: IdempotencyRepository;
  private lastPrune = 0;

  constructor(@Inject(DATA_SOURCE) dataSource: DataSource, @Inject(SECRET_BOX) private readonly secretBox: SecretBox) {
    this.repository = new TypeOrmIdempotencyRepository(dataSource);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest>();
    const header = request.headers[IDEMPOTENCY_HEADER];
    // Without the header (or before authentication, which the guard has refused already) nothing changes.
    if (header === undefined || request.apiKey === undefined) return next.handle();
    if (typeof header !== 'string' || !KEY_SHAPE.test(header)) {
      throw badRequest(HTTP_ERRORS.invalidIdempotencyKey, 'Idempotency-Key must be 1 to 255 visible ASCII characters');
    }
    const status = (Reflect.getMetadata(HTTP_CODE_METADATA, context.getHandler()) as number | undefined) ?? 201;
    return from(this.run(request, http.getResponse<FastifyReply>(), header, status, next));
  }

  private async run(request: AuthenticatedRequest, reply: FastifyReply, key: string, status: number, next: CallHandler): Promise<unknown> {
    const { orgId, keyId } = request.apiKey!;
    const scope = `${orgId}/${keyId}`;
    const route = request.routeOptions.url ?? request.url;
    const requestHash = createHash('sha256').update(`${request.method} ${route}\n${canonicalJson(request.body ?? null)}`).digest('hex');
    this.pruneNowAndThen();

    const reservation = await this.repository.reserve(scope, key, requestHash, IDEMPOTENCY_TTL_MS, IDEMPOTENCY_STALE_MS);
    if (!reservation.reserved) {
      const existing = reservation.existing;
      if (existing.requestHash !== requestHash) {
        throw new ProblemError(422, HTTP_ERRORS.idempotencyKeyReused, 'this Idempotency-Key was used with another request; use a new key');
      }
      if (existing.status === null || existing.sealedBody === null) {
        throw conflict(HTTP_ERRORS.idempotencyKeyInProgress, 'a request with this Idempotency-Key is in progress; retry later');
      }
      reply.header(IDEMPOTENT_REPLAYED_HEADER, 'true');
      return JSON.parse(this.secretBox.open(existing.sealedBody, this.context(scope, key))) as unknown;
    }

    let body: unknown;
    try {
      body = await lastValueFrom(next.handle(), { defaultValue: undefined });
    } catch (err) {
      await this.repository.release(scope, key).catch(() => undefined);
      throw err;
    }
    // Not stored (the database failed just now): the caller still gets its answer; a retry gets 409
    // until the record is stale, then runs again.
    await this.repository.complete(scope, key, status, this.secretBox.seal(JSON.stringify(body ?? null), this.context(scope, key))).catch(() => undefined);
    return body;
  }

  /** Binds a sealed body to its record: moved to another row it does not open. */
  private context(scope: string, key: string): string {
    return `idempotency:${scope}:${key}`;
  }

  private pruneNowAndThen(): void {
    const now = Date.now();
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    void this.repository.pruneExpired().catch(() => undefined);
  }
}

/** Makes a POST honour Idempotency-Key (see {@link IdempotencyInterceptor}); documented in the OpenAPI document. */
export const Idempotent = (): MethodDecorator =>
  applyDecorators(
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description: 'Makes a retry safe: the same key with the same body within 24 h returns the first response (Idempotent-Replayed: true).',
    }),
    ApiUnprocessableEntityResponse({ description: `${HTTP_ERRORS.idempotencyKeyReused}: the key was used with another body` }),
    ApiConflictResponse({ description: `${HTTP_ERRORS.idempotencyKeyInProgress}: the first request with this key is still running` }),
  );
