import { applyDecorators } from '@nestjs/common';
import { ApiResponse, OpenAPIObject } from '@nestjs/swagger';

import { HTTP_ERRORS } from './errors';
import { PROBLEM_CONTENT_TYPE } from './problem';

/*
 * What code generators need from the OpenAPI document beyond what
 * @nestjs/swagger derives: the problem+json errors per status with their
 * stable codes, the health and metrics routes, and a security scheme that
 * does not claim API keys are JWTs.
 */

const PROBLEM_REF = '#/components/schemas/Problem';

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request',
  401: 'Not authenticated',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Conflict',
  413: 'Body too large',
  415: 'Unsupported media type',
  429: 'Too many requests',
  500: 'Internal error',
  503: 'Unavailable, retry later',
};

type Operation = { responses?: Record<string, ResponseObject>; security?: unknown[] };
type ResponseObject = { description: string; content?: Record<string, { schema: Record<string, unknown> }> };

const problemResponse = (status: number, codes: readonly string[]): ResponseObject => ({
  description: `${STATUS_TEXT[status] ?? 'Error'}: ${codes.join(', ')}`,
  content: { [PROBLEM_CONTENT_TYPE]: { schema: { allOf: [{ $ref: PROBLEM_REF }, { type: 'object', properties: { code: { type: 'string', enum: [...codes] } } }] } } },
});

/** Declares the problems an operation answers, per status, with the feature's codes (from its X_ERRORS). */
export function ApiProblems(problems: Record<number, readonly string[]>): MethodDecorator & ClassDecorator {
  return applyDecorators(...Object.entries(problems).map(([status, codes]) => ApiResponse({ status: Number(status), ...problemResponse(Number(status), codes) } as never)));
}

/** What every operation can answer, whatever its feature. */
const COMMON: Record<number, readonly string[]> = {
  400: [HTTP_ERRORS.badRequest, HTTP_ERRORS.malformedJson, HTTP_ERRORS.validationFailed],
  413: [HTTP_ERRORS.payloadTooLarge],
  415: [HTTP_ERRORS.unsupportedMediaType],
  500: [HTTP_ERRORS.internalError],
  503: [HTTP_ERRORS.databaseUnavailable, HTTP_ERRORS.requestTimeout],
};
/** What an operation behind the bearer scheme (API key or session) can answer besides (codes of the api-keys guard). */
const SECURED: Record<number, readonly string[]> = {
  401: [HTTP_ERRORS.unauthorized, 'missing_api_key', 'invalid_api_key'],
  403: [HTTP_ERRORS.forbidden, 'insufficient_scope', 'ip_not_allowed'],
  429: ['too_many_attempts', HTTP_ERRORS.tooManyRequests],
};

function codesOf(response: ResponseObject | undefined): string[] {
  const schema = response?.content?.[PROBLEM_CONTENT_TYPE]?.schema as { allOf?: Array<{ properties?: { code?: { enum?: string[] } } }> } | undefined;
  return schema?.allOf?.[1]?.properties?.code?.enum ?? [];
}

const HEALTH_PATHS = {
  '/healthz': {
    get: {
      operationId: 'healthz',
      tags: ['health'],
      summary: 'Liveness: the process serves requests',
      responses: { '200': { description: 'Alive', content: { 'application/json': { schema: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['ok'] } } } } } } },
    },
  },
  '/readyz': {
    get: {
      operationId: 'readyz',
      tags: ['health'],
      summary: 'Readiness: every dependency (database, revocation bus, edge) answers',
      responses: {
        '200': { description: 'Ready', content: { 'application/json': { schema: { $ref: '#/components/schemas/Readiness' } } } },
        '503': { description: 'Not ready', content: { 'application/json': { schema: { $ref: '#/components/schemas/Readiness' } } } },
      },
    },
  },
  '/metrics': {
    get: {
      operationId: 'metrics',
      tags: ['health'],
      summary: 'Prometheus metrics (text exposition format 0.0.4)',
      responses: { '200': { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } } },
    },
  },
};

/** Completes the document @nestjs/swagger built (in place): problem schemas and responses, health routes, the security scheme. */
export function completeOpenApiDocument(document: OpenAPIObject): OpenAPIObject {
  document.components ??= {};
  document.components.schemas = {
    ...document.components.schemas,
    Problem: {
      type: 'object',
      description: 'RFC 9457 problem details; clients switch on `code`, never on `detail`.',
      required: ['type', 'title', 'status', 'code', 'detail'],
      properties: {
        type: { type: 'string' },
        title: { type: 'string' },
        status: { type: 'integer' },
        code: { type: 'string' },
        detail: { type: 'string' },
        instance: { type: 'string' },
      },
      additionalProperties: true,
    },
    Readiness: {
      type: 'object',
      required: ['status', 'ready', 'checks'],
      properties: {
        status: { type: 'string', enum: ['ready', 'not_ready'] },
        ready: { type: 'boolean' },
        checks: { type: 'object', additionalProperties: { type: 'object', required: ['ok'], properties: { ok: { type: 'boolean' }, detail: { type: 'string' } } } },
      },
    },
  };
  // API keys and sessions are opaque bearer strings (sk_, rk_, …), not JWTs.
  for (const scheme of Object.values(document.components.securitySchemes ?? {})) delete (scheme as { bearerFormat?: string }).bearerFormat;
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item as Record<string, Operation>)) {
      if (typeof operation !== 'object' || operation === null || !('responses' in operation)) continue;
      const responses = (operation.responses ??= {});
      const secured = Array.isArray(operation.security) && operation.security.length > 0;
      for (const [status, codes] of Object.entries({ ...COMMON, ...(secured ? SECURED : {}) })) {
        const merged = [...new Set([...codesOf(responses[status]), ...codes])];
        responses[status] = problemResponse(Number(status), merged);
      }
    }
  }
  Object.assign(document.paths, HEALTH_PATHS);
  return document;
}
