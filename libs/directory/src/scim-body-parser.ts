import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';

import { ScimError, SCIM_TYPES } from './errors';
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
        done(new ScimError(400, 'the body is not valid JSON', SCIM_TYPES.invalidSyntax), undefined);
      }
    });
  }
}
