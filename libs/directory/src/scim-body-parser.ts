import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';

import { badRequest, HTTP_ERRORS } from '@signet/http';

import { SCIM_CONTENT_TYPE } from './scim/scim-resources';

/**
 * Fastify parses only application/json; SCIM clients send application/scim+json
 * (RFC 7644 §3.1). Registered at module init, before the server listens.
 */
@Injectable()
export class ScimBodyParser implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify || fastify.hasContentTypeParser(SCIM_CONTENT_TYPE)) return;
    fastify.addContentTypeParser(SCIM_CONTENT_TYPE, { parseAs: 'string' }, (_req, body: string, done) => {
      if (body.trim() === '') return done(null, undefined);
      try {
        done(null, JSON.parse(body, (key, value: unknown) => (key === '__proto__' ? undefined : value)));
      } catch {
        // Raised before a route runs: the platform's problem mapping answers it, as for application/json.
        done(badRequest(HTTP_ERRORS.malformedJson, 'request body is not valid JSON'), undefined);
      }
    });
  }
}
