import type { FastifyInstance } from 'fastify';

import { HTTP_ERRORS } from './errors';
import { badRequest, ProblemError } from './problem';

/** RFC 8259 §8.1: JSON exchanged between systems is UTF-8; `charset` may only say so. */
const UTF8 = /^"?utf-?8"?$/i;
// ignoreBOM keeps a BOM in the text, where JSON.parse refuses it as before.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Keys that reach for the prototype (as secure-json-parse, Fastify's default,
 * refuses them): DTO transformation would silently drop them, so a body
 * carrying one is refused rather than half-read.
 */
function refuseProtoKeys(key: string, value: unknown): unknown {
  if (key === '__proto__' || (key === 'constructor' && typeof value === 'object' && value !== null && 'prototype' in value)) {
    throw new SyntaxError(`forbidden key ${key}`);
  }
  return value;
}
const MAY_HAVE_PROTO_KEYS = /"(?:__proto__|constructor)"/;

/** The `charset` parameter of a Content-Type header, if any. */
function charsetOf(contentType: string | undefined): string | undefined {
  for (const param of (contentType ?? '').split(';').slice(1)) {
    const eq = param.indexOf('=');
    if (eq !== -1 && param.slice(0, eq).trim().toLowerCase() === 'charset') return param.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Our own JSON parser, so every failure is a problem with a stable code
 * (Nest would otherwise flatten Fastify's error into a generic 400): a
 * charset other than UTF-8 is 415 `unsupported_media_type`; bytes that are
 * not UTF-8, text that is not JSON, or prototype keys are 400 `malformed_json`.
 */
export function installJsonBodyParser(fastify: FastifyInstance): void {
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body: Buffer, done) => {
    // Kept for handlers that check a signature over the bytes as sent (IdP event webhooks).
    (req as { rawBody?: Buffer }).rawBody = body;
    const charset = charsetOf(req.headers['content-type']);
    if (charset !== undefined && !UTF8.test(charset)) {
      return done(new ProblemError(415, HTTP_ERRORS.unsupportedMediaType, 'JSON bodies must be UTF-8 (charset=utf-8 or none)'), undefined);
    }
    let text: string;
    try {
      text = decoder.decode(body);
    } catch {
      return done(badRequest(HTTP_ERRORS.malformedJson, 'request body is not valid UTF-8'), undefined);
    }
    if (text.trim() === '') return done(null, undefined);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return done(badRequest(HTTP_ERRORS.malformedJson, 'request body is not valid JSON'), undefined);
    }
    // The reviver only when needed: it makes parsing several times slower.
    if (MAY_HAVE_PROTO_KEYS.test(text)) {
      try {
        JSON.parse(text, refuseProtoKeys);
      } catch {
        return done(badRequest(HTTP_ERRORS.malformedJson, 'request body must not contain __proto__ or constructor.prototype keys'), undefined);
      }
    }
    done(null, value);
  });
}

/** Route config (`@RouteConfig(FORM_BODY)` from @nestjs/platform-fastify) of the routes that take form bodies. */
export const FORM_BODY = { formBody: true } as const;

/**
 * `application/x-www-form-urlencoded` bodies (OIDC Back-Channel Logout posts
 * `logout_token` so) become an object of their first values per name, on the
 * routes configured with {@link FORM_BODY} only: elsewhere a form is 415, so
 * an HTML form posted cross-site reaches no JSON route.
 */
export function installFormBodyParser(fastify: FastifyInstance): void {
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (req, body: string, done) => {
    if ((req.routeOptions.config as { formBody?: boolean } | undefined)?.formBody !== true) {
      return done(new ProblemError(415, HTTP_ERRORS.unsupportedMediaType, 'this route takes application/json'), undefined);
    }
    const value: Record<string, string> = {};
    for (const [name, field] of new URLSearchParams(body)) if (!(name in value) && name !== '__proto__') value[name] = field;
    done(null, value);
  });
}
