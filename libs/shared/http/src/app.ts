import { DynamicModule, Global, INestApplication, Module, Provider, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

import { explainListenError } from '@signet/config';
import { LOGGER, METRICS, PinoNestLogger, SignetMetrics } from '@signet/observability';

import { HealthController, HealthRegistry } from './health';
import { installFormBodyParser, installJsonBodyParser } from './json-body';
import { completeOpenApiDocument } from './openapi';
import { clientErrorProblem, frameworkErrorProblem, ProblemFilter } from './problem.filter';
import { installRequestContext } from './request-context';
import { createValidationPipe } from './validation';

export interface HttpAppOptions {
  /** Shown in the OpenAPI document. */
  title: string;
  logger: Logger;
  metrics: SignetMetrics;
  /** Process-wide providers (config, data source, bus, …) made global for every feature module. */
  providers: Provider[];
  /** Feature modules served by this app. */
  imports: (Type<unknown> | DynamicModule)[];
  /** Largest accepted request body. */
  bodyLimit?: number;
  /**
   * Addresses / CIDR blocks of the proxies in front (`config.proxy.trustedProxies`, SIGNET_TRUSTED_PROXIES).
   * When the TCP peer is one of them, `request.ip` is the nearest X-Forwarded-For address that is not;
   * absent or empty: `request.ip` is the peer's address and forwarding headers are ignored.
   */
  trustedProxies?: readonly string[];
  /** Answer 503 `request_timeout` to a request still in progress this long after it arrived (SIGNET_REQUEST_TIMEOUT_MS); absent: no deadline. */
  requestTimeoutMs?: number;
}

/**
 * Builds a Signet HTTP app: Fastify, JSON logs, problem+json errors, DTO
 * validation, OpenAPI at /docs, /healthz, /readyz and /metrics. Every app
 * (all-in-one or a single service) is built here, so they behave alike.
 */
export async function createHttpApp(options: HttpAppOptions): Promise<NestFastifyApplication> {
  @Global()
  @Module({
    providers: [...options.providers, HealthRegistry, { provide: METRICS, useValue: options.metrics }, { provide: LOGGER, useValue: options.logger }],
    exports: [...options.providers, HealthRegistry, METRICS, LOGGER],
  })
  class PlatformModule {}

  @Module({ imports: [PlatformModule, ...options.imports], controllers: [HealthController] })
  class RootModule {}

  // `request.ip` is the one client address every reader uses (API key allowlists and throttling, public rate
  // limits): Fastify (@fastify/proxy-addr) walks X-Forwarded-For from the right, past trusted hops only.
  // Nothing else parses forwarding headers. An empty list is `false`, not `[]`: no proxy mode at all.
  const trustedProxies = options.trustedProxies ?? [];
  const adapter = new FastifyAdapter({
    bodyLimit: options.bodyLimit ?? 64 * 1024,
    trustProxy: trustedProxies.length > 0 ? [...trustedProxies] : false,
    // Errors raised before a route or a request exists are problems too (bad URL, long parameter, header overflow).
    frameworkErrors: frameworkErrorProblem(options.logger),
    clientErrorHandler: clientErrorProblem,
  });
  const app = await NestFactory.create<NestFastifyApplication>(RootModule, adapter, {
    logger: new PinoNestLogger(options.logger.child({ component: 'nest' })),
    abortOnError: false,
    bodyParser: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  installJsonBodyParser(fastify);
  installFormBodyParser(fastify);
  installRequestContext(fastify, options.requestTimeoutMs);
  fastify.addHook('onResponse', async (req: FastifyRequest, reply: FastifyReply) => {
    options.metrics.httpRequests.inc({
      method: req.method,
      route: req.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    });
  });
  app.useGlobalFilters(new ProblemFilter(options.logger));
  app.useGlobalPipes(createValidationPipe());

  setupOpenApi(app, options.title);
  return app;
}

/**
 * The OpenAPI document at /docs/openapi.json (and /docs-yaml) and the Swagger UI at /docs.
 *
 * @nestjs/swagger 11 splices the document into swagger-ui-init.js with a string `String.replace`, so `$'`,
 * `$&`, `$$`… in any text (the `user_id` rule "no leading '$'") are read as replacement patterns and the
 * script no longer parses (nestjs/swagger#4119). The init script therefore gets a copy with every `$`
 * doubled, which that one replacement turns back into the document as written.
 */
function setupOpenApi(app: NestFastifyApplication, title: string): void {
  const document = completeOpenApiDocument(SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(title)
      .setDescription('Signet: short-lived, per-user MQTT credentials. Errors are application/problem+json with a stable `code`.')
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An sk_ or rk_ API key' })
      .build(),
  ));
  const forInitScript = escapeReplacementPatterns(document) as OpenAPIObject;
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs/openapi.json',
    patchDocumentOnRequest: (req: unknown, _res: unknown, doc: OpenAPIObject) =>
      requestPath(req).endsWith('/swagger-ui-init.js') ? forInitScript : doc,
  });
}

/** A deep copy with every `$` of every key and string doubled: `$$` is a replacement pattern for one `$`. */
function escapeReplacementPatterns(value: unknown): unknown {
  if (typeof value === 'string') return value.replaceAll('$', () => '$$');
  if (Array.isArray(value)) return value.map(escapeReplacementPatterns);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [escapeReplacementPatterns(k), escapeReplacementPatterns(v)]));
  }
  return value;
}

function requestPath(req: unknown): string {
  const url = typeof req === 'object' && req !== null && 'url' in req ? req.url : undefined;
  return typeof url === 'string' ? url.split('?')[0] : '';
}

/** Listens, turning a taken port into an error naming the variable to change. */
export async function listenHttp(app: INestApplication, port: number, host: string, variable: string): Promise<number> {
  try {
    await app.listen(port, host);
  } catch (err) {
    throw explainListenError(err, variable, port, host);
  }
  const address = app.getHttpServer().address();
  return typeof address === 'object' && address ? address.port : port;
}
