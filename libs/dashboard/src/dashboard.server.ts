import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { AuthorizationServer, DASHBOARD_CALLBACK_PATH, DASHBOARD_CLIENT_ID, SESSION_SCOPES } from '@signet/accounts';
import { ProblemError, toProblem, toProblemDocument } from '@signet/http';
import { LOGGER } from '@signet/observability';
import type { Logger } from '@signet/observability';

import {
  CSRF_HEADER,
  forwardedPath,
  LOGIN_COOKIE,
  parseCookies,
  sameOrigin,
  serializeCookie,
  SESSION_COOKIE,
  sha256,
  SIGNED_OUT_COOKIE,
  tokensEqual,
} from './browser-policy';
import { DASHBOARD_SESSION_REPOSITORY, DashboardSession, DashboardSessionRepository } from './dashboard-session.repository';
import { csrfRejected, notSignedIn, routeNotProxied, signInFailed } from './errors';
import { InProcessOAuth, OAuthRefused } from './in-process-oauth';
import { DASHBOARD_OPTIONS, DashboardOptions } from './options';

const LOGIN_TTL_S = 300;
/** Refresh the access token this long before it expires, so a forwarded call never carries a dying one. */
const REFRESH_MARGIN_MS = 30_000;
const MAX_BODY_BYTES = 64 * 1024;
const READ_METHODS = new Set(['GET', 'HEAD']);
/** Upstream response headers a page may see; never Set-Cookie or anything about the bearer. */
const PASSED_HEADERS = ['content-type', 'content-disposition', 'retry-after', 'location'];
/** Request headers forwarded to the API; the bearer is added here, the browser's cookies never are. */
const FORWARDED_HEADERS = ['content-type', 'accept', 'idempotency-key'];

const ASSETS: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/**
 * The dashboard at /dashboard, a backend for frontend: it signs people in through the authorization
 * server of this process (code + PKCE, confidential client), keeps the tokens server-side behind an
 * httpOnly SameSite cookie, and forwards the page's calls to the /v1 API as `/dashboard/api/v1/…` with
 * the session's bearer, after checking the per-session CSRF token and the Origin of every write.
 */
@Injectable()
export class DashboardServer implements OnModuleInit {
  private readonly assets = new Map<string, Asset>();
  private oauth!: InProcessOAuth;
  private fastify!: FastifyInstance;
  /** One refresh at a time per session: rotation makes a second, concurrent use look like reuse. */
  private readonly refreshing = new Map<string, Promise<DashboardSession | null>>();
  private readonly publicOrigin: string;
  private readonly secure: boolean;

  constructor(
    @Inject(DASHBOARD_OPTIONS) private readonly options: DashboardOptions,
    @Inject(DASHBOARD_SESSION_REPOSITORY) private readonly sessions: DashboardSessionRepository,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly authorizationServer: AuthorizationServer,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    this.publicOrigin = new URL(options.publicUrl).origin;
    this.secure = this.publicOrigin.startsWith('https:');
  }

  onModuleInit(): void {
    const dir = join(__dirname, 'static');
    const page = (name: string, type: string) => {
      const body = readFileSync(join(dir, name));
      return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` };
    };
    this.assets.set('index.html', page('index.html', 'text/html; charset=utf-8'));
    for (const [name, type] of Object.entries(ASSETS)) this.assets.set(name, page(name, type));
    this.fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    this.oauth = new InProcessOAuth(this.fastify, this.authorizationServer.dashboardClientSecret);
    this.mount(this.fastify);
  }

  private get redirectUri(): string {
    return `${this.options.publicUrl}${DASHBOARD_CALLBACK_PATH}`;
  }

  private mount(fastify: FastifyInstance): void {
    void fastify.register(async (scope) => {
      // Bodies are forwarded as they came; the API behind parses and validates them.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES }, (_req, body, done) => done(null, body));
      const handle =
        (fn: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>) =>
        async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
          void reply.headers(SECURITY_HEADERS);
          try {
            return await fn(req, reply);
          } catch (err) {
            const problem = toProblem(err, this.logger);
            if (!(err instanceof ProblemError)) this.logger.error({ err: (err as Error).message }, 'dashboard request failed');
            return reply.code(problem.status).headers(problem.headers).type('application/problem+json').send(toProblemDocument(problem));
          }
        };
      const index = (req: FastifyRequest, reply: FastifyReply) => this.asset(req, reply, 'index.html');
      scope.get('/dashboard', handle(index));
      scope.get('/dashboard/', handle(index));
      scope.get<{ Params: { name: string } }>('/dashboard/assets/:name', handle((req, reply) => this.asset(req, reply, (req.params as { name: string }).name)));
      scope.get('/dashboard/session', handle((req, reply) => this.whoami(req, reply)));
      scope.get('/dashboard/login', handle((req, reply) => this.login(req, reply)));
      // A failed sign-in lands on the page, which says why, rather than on a JSON document.
      scope.get(
        DASHBOARD_CALLBACK_PATH,
        handle((req, reply) =>
          this.callback(req, reply).catch((err: unknown) => {
            if (!(err instanceof ProblemError)) throw err;
            return reply.header('cache-control', 'no-store').redirect(`/dashboard?error=${encodeURIComponent(err.detail)}`, 303);
          }),
        ),
      );
      scope.post('/dashboard/logout', handle((req, reply) => this.logout(req, reply)));
      scope.all('/dashboard/api/*', handle((req, reply) => this.forward(req, reply)));
    });
  }

  private async asset(req: FastifyRequest, reply: FastifyReply, name: string): Promise<unknown> {
    const asset = this.assets.get(name);
    if (!asset) throw routeNotProxied();
    void reply.header('etag', asset.etag).header('cache-control', 'no-cache');
    if (req.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    return reply.type(asset.type).send(asset.body);
  }

  /** The signed-in account and the CSRF token for the page; 401 when signed out. */
  private async whoami(req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const { session } = await this.requireSession(req);
    const me = await this.call(session, 'GET', '/v1/accounts/me', req.ip);
    if (me.statusCode !== 200) throw notSignedIn();
    void reply.header('cache-control', 'no-store');
    return reply.send({ account: JSON.parse(me.body) as unknown, csrf_token: session.csrfToken });
  }

  private async login(req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    // The callback is on the public URL: start there, so the login cookie is set where it comes back.
    if (this.requestOrigin(req) !== this.publicOrigin) return reply.redirect(`${this.options.publicUrl}/dashboard/login`, 302);
    const state = randomBytes(32).toString('base64url');
    const verifier = randomBytes(32).toString('base64url');
    const binding = randomBytes(32).toString('base64url');
    await this.sessions.putLogin(state, { verifier, binding: sha256(binding) }, LOGIN_TTL_S);
    const params = new URLSearchParams({
      client_id: DASHBOARD_CLIENT_ID,
      response_type: 'code',
      redirect_uri: this.redirectUri,
      scope: SESSION_SCOPES,
      state,
      code_challenge: sha256(verifier),
      code_challenge_method: 'S256',
    });
    // After a sign-out on this browser, the password again rather than the lingering /oidc session.
    if (parseCookies(req.headers.cookie).has(SIGNED_OUT_COOKIE)) params.set('prompt', 'login');
    void reply.header('set-cookie', serializeCookie(LOGIN_COOKIE, binding, { maxAgeSeconds: LOGIN_TTL_S, secure: this.secure, sameSite: 'Lax' }));
    void reply.header('cache-control', 'no-store');
    return reply.redirect(`/oidc/auth?${params.toString()}`, 302);
  }

  private async callback(req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const query = req.query as Record<string, string | undefined>;
    const cookies = parseCookies(req.headers.cookie);
    const binding = cookies.get(LOGIN_COOKIE);
    const pending = typeof query.state === 'string' ? await this.sessions.takeLogin(query.state) : null;
    if (!pending || binding === undefined || !tokensEqual(sha256(binding), pending.binding)) {
      throw signInFailed('this sign-in was not started by this browser, or has expired; sign in again from /dashboard');
    }
    if (typeof query.error === 'string') throw signInFailed(`the sign-in was refused (${query.error})`);
    if (typeof query.code !== 'string') throw signInFailed('the callback carries no code');
    const tokens = await this.oauth.exchangeCode(query.code, this.redirectUri, pending.verifier);
    const id = randomBytes(32).toString('base64url');
    const session: DashboardSession = {
      grantId: await this.sessions.grantOf(tokens.accessToken),
      accessToken: tokens.accessToken,
      accessExpiresAt: tokens.expiresAt,
      refreshToken: tokens.refreshToken,
      csrfToken: randomBytes(32).toString('base64url'),
    };
    await this.sessions.putSession(sha256(id), session, this.options.sessionTtlSeconds);
    const cookie = { secure: this.secure, sameSite: 'Lax' as const };
    void reply.header('set-cookie', [
      serializeCookie(SESSION_COOKIE, id, { ...cookie, maxAgeSeconds: this.options.sessionTtlSeconds }),
      serializeCookie(LOGIN_COOKIE, '', { ...cookie, maxAgeSeconds: 0 }),
      serializeCookie(SIGNED_OUT_COOKIE, '', { ...cookie, maxAgeSeconds: 0 }),
    ]);
    void reply.header('cache-control', 'no-store');
    return reply.redirect('/dashboard', 303);
  }

  /** Revokes the grant at the authorization server first, then forgets the session whatever happens. */
  private async logout(req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const { idHash, session } = await this.requireSession(req);
    this.checkCsrf(req, session);
    try {
      await this.oauth.revoke(session.refreshToken);
    } finally {
      await this.sessions.deleteSession(idHash);
    }
    const cookie = { secure: this.secure, sameSite: 'Lax' as const };
    void reply.header('set-cookie', [
      serializeCookie(SESSION_COOKIE, '', { ...cookie, maxAgeSeconds: 0 }),
      serializeCookie(SIGNED_OUT_COOKIE, '1', { ...cookie, maxAgeSeconds: this.options.sessionTtlSeconds }),
    ]);
    return reply.code(204).send();
  }

  private async forward(req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const rest = req.url.slice('/dashboard/api'.length);
    const path = forwardedPath(rest);
    if (path === null) throw routeNotProxied();
    const { idHash, session } = await this.requireSession(req);
    if (!READ_METHODS.has(req.method)) this.checkCsrf(req, session);
    const current = await this.fresh(idHash, session);
    const headers: Record<string, string> = {};
    for (const name of FORWARDED_HEADERS) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const res = await this.call(current, req.method, path, req.ip, headers, req.body as Buffer | undefined);
    // The session ended at the authorization server (revoked from the CLI, a viewer's account removed…).
    if (res.statusCode === 401) {
      await this.sessions.deleteSession(idHash);
      throw notSignedIn();
    }
    void reply.code(res.statusCode).header('cache-control', 'no-store');
    for (const name of PASSED_HEADERS) {
      const value = res.headers[name];
      if (typeof value === 'string') void reply.header(name, value);
    }
    return reply.send(res.rawPayload);
  }

  private call(session: DashboardSession, method: string, path: string, ip: string, headers: Record<string, string> = {}, body?: Buffer) {
    return this.fastify.inject({
      method: method as 'GET',
      url: path,
      // The caller's address, so allowlists, limits and the audit log see the person, not the dashboard.
      remoteAddress: ip,
      headers: { ...headers, authorization: `Bearer ${session.accessToken}` },
      payload: body && body.length > 0 ? body : undefined,
    });
  }

  private async requireSession(req: FastifyRequest): Promise<{ idHash: string; session: DashboardSession }> {
    const id = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
    if (!id) throw notSignedIn();
    const idHash = sha256(id);
    const session = await this.sessions.findSession(idHash);
    if (!session) throw notSignedIn();
    return { idHash, session };
  }

  private checkCsrf(req: FastifyRequest, session: DashboardSession): void {
    const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
    const secFetchSite = typeof req.headers['sec-fetch-site'] === 'string' ? req.headers['sec-fetch-site'] : undefined;
    if (!sameOrigin({ origin, secFetchSite }, [this.publicOrigin, this.requestOrigin(req)])) {
      throw csrfRejected('this request does not come from a dashboard page (Origin)');
    }
    const token = req.headers[CSRF_HEADER];
    if (!tokensEqual(typeof token === 'string' ? token : undefined, session.csrfToken)) {
      throw csrfRejected(`a state-changing call needs the session's ${CSRF_HEADER} header`);
    }
  }

  /** The session with an access token good for the next call, refreshed (once at a time) when needed. */
  private async fresh(idHash: string, session: DashboardSession): Promise<DashboardSession> {
    if (session.accessExpiresAt - REFRESH_MARGIN_MS > Date.now()) return session;
    let refresh = this.refreshing.get(idHash);
    if (!refresh) {
      refresh = this.refresh(idHash, session).finally(() => this.refreshing.delete(idHash));
      this.refreshing.set(idHash, refresh);
    }
    const refreshed = await refresh;
    if (!refreshed) throw notSignedIn();
    return refreshed;
  }

  private async refresh(idHash: string, session: DashboardSession): Promise<DashboardSession | null> {
    try {
      const tokens = await this.oauth.refresh(session.refreshToken);
      const next = { ...session, accessToken: tokens.accessToken, accessExpiresAt: tokens.expiresAt, refreshToken: tokens.refreshToken };
      await this.sessions.putSession(idHash, next, this.options.sessionTtlSeconds);
      return next;
    } catch (err) {
      if (!(err instanceof OAuthRefused)) throw err;
      await this.sessions.deleteSession(idHash);
      return null;
    }
  }

  private requestOrigin(req: FastifyRequest): string {
    return `${req.protocol}://${req.host}`;
  }
}
