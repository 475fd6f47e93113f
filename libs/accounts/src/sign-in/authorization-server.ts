import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Configuration, default as ProviderType } from 'oidc-provider';

import { ProblemError } from '@signet/http';
import { LOGGER } from '@signet/observability';
import type { Logger } from '@signet/observability';

import { ACCOUNTS_REPOSITORY, AccountsRepository } from '../accounts.repository';
import { ACCOUNTS_OPTIONS, AccountsOptions, SSO_CALLBACK_PATH } from '../options';
import { AuthenticateUseCase } from '../usecases/authenticate/authenticate.usecase';
import { SignUpUseCase } from '../usecases/sign-up/sign-up.usecase';
import { CheckSecondFactorUseCase } from '../usecases/totp/check-second-factor.usecase';
import { OIDC_PAYLOAD_REPOSITORY, oidcAdapterClass, OidcPayloadRepository } from './oidc-payload.repository';
import { messagePage, PageError, signInPage, totpPage } from './page';
import { SsoSignIn } from './sso-sign-in';

/** The `signet` CLI: a public native client (RFC 8252), PKCE only, any loopback port. */
export const CLI_CLIENT_ID = 'signet-cli';
export const CLI_REDIRECT_URI = 'http://127.0.0.1/callback';
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const SESSION_SCOPES = 'openid offline_access';
/**
 * The dashboard's backend (`/dashboard`, in the process that serves /oidc): a confidential web client
 * whose only redirect URI is `<SIGNET_PUBLIC_URL>/dashboard/callback`, matched exactly.
 */
export const DASHBOARD_CLIENT_ID = 'signet-dashboard';
export const DASHBOARD_CALLBACK_PATH = '/dashboard/callback';

const MAX_FORM_BYTES = 16 * 1024;
/** A right password of an account with TOTP on, waiting for its code (by interaction uid). */
const PASSWORD_STEP = 'SignInPasswordStep';

type Details = Awaited<ReturnType<ProviderType['interactionDetails']>>;
const pageError = (err: ProblemError): PageError => ({ detail: err.detail, code: err.code });

/**
 * The OAuth 2.1 authorization server (panva's oidc-provider 8, the last major on Node 20) at /oidc:
 * authorization code + PKCE S256, the device grant (RFC 8628), revocation (RFC 7009), rotating refresh
 * tokens whose reuse revokes the grant; state in PostgreSQL. Its sign-in page is /sign-in/:uid.
 */
@Injectable()
export class AuthorizationServer implements OnModuleInit {
  private loading?: Promise<ProviderType>;
  /**
   * Per process, like the cookie keys: the dashboard's backend calls this process's own token endpoint
   * (in-process), so no other party ever needs it; codes and grants live in PostgreSQL, bound to the
   * client id, so a callback reaching another replica is exchanged there with that replica's secret.
   */
  readonly dashboardClientSecret = randomBytes(32).toString('base64url');

  constructor(
    @Inject(ACCOUNTS_OPTIONS) private readonly options: AccountsOptions,
    @Inject(OIDC_PAYLOAD_REPOSITORY) private readonly payloads: OidcPayloadRepository,
    @Inject(ACCOUNTS_REPOSITORY) private readonly accounts: AccountsRepository,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly authenticate: AuthenticateUseCase,
    private readonly signUp: SignUpUseCase,
    private readonly secondFactor: CheckSecondFactorUseCase,
    private readonly sso: SsoSignIn,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  onModuleInit(): void {
    this.mount(this.adapterHost.httpAdapter.getInstance<FastifyInstance>());
  }

  /**
   * Built at the first sign-in request, not at start: oidc-provider is ESM-only, which Node 20.19+
   * loads from our CommonJS build with require() but jest's module system cannot (its `got` has a
   * tree of ESM dependencies), so in-process specs of the other features never load it.
   */
  private provider(): Promise<ProviderType> {
    this.loading ??= import('oidc-provider').then(({ default: Provider }) => {
      const provider = new Provider(this.options.issuer, this.configuration());
      provider.on('server_error', (_ctx, err) => this.logger.error({ err }, 'authorization server error'));
      return provider;
    });
    return this.loading;
  }

  private configuration(): Configuration {
    const { accessTokenTtlSeconds, refreshTokenTtlSeconds } = this.options;
    // Per process: ID tokens are not used by Signet; cookies only carry a sign-in in progress.
    const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    return {
      adapter: oidcAdapterClass(this.payloads),
      clients: [
        {
          client_id: CLI_CLIENT_ID,
          client_name: 'signet CLI',
          application_type: 'native',
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT],
          response_types: ['code'],
          redirect_uris: [CLI_REDIRECT_URI],
        },
        {
          client_id: DASHBOARD_CLIENT_ID,
          client_name: 'Signet dashboard',
          client_secret: this.dashboardClientSecret,
          application_type: 'web',
          token_endpoint_auth_method: 'client_secret_basic',
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          redirect_uris: [`${this.options.issuer.replace(/\/oidc$/, '')}${DASHBOARD_CALLBACK_PATH}`],
        },
      ],
      findAccount: async (_ctx, sub) => {
        const account = await this.accounts.findById(sub);
        if (!account) return undefined;
        return { accountId: sub, claims: () => ({ sub, preferred_username: account.username, org_id: account.orgId, role: account.role }) };
      },
      responseTypes: ['code'],
      scopes: ['openid', 'offline_access'],
      claims: { openid: ['sub'], profile: ['preferred_username', 'org_id', 'role'] },
      pkce: { methods: ['S256'], required: () => true },
      features: {
        devInteractions: { enabled: false },
        deviceFlow: { enabled: true },
        revocation: { enabled: true },
      },
      rotateRefreshToken: true,
      issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
      ttl: {
        AccessToken: accessTokenTtlSeconds,
        AuthorizationCode: 60,
        DeviceCode: 600,
        Interaction: 300,
        Grant: refreshTokenTtlSeconds,
        RefreshToken: refreshTokenTtlSeconds,
        Session: refreshTokenTtlSeconds,
        IdToken: accessTokenTtlSeconds,
      },
      cookies: { keys: [randomBytes(32).toString('base64url')] },
      jwks: { keys: [signingKey as never] },
      interactions: { url: (_ctx, interaction) => `/sign-in/${interaction.uid}` },
      clientBasedCORS: () => false,
    };
  }

  /**
   * Own Fastify scope: no body parser, so oidc-provider reads the bodies itself, and the routes answer
   * the raw Node response (OAuth errors are OAuth's JSON, not problem+json).
   */
  private mount(fastify: FastifyInstance): void {
    let callback: ReturnType<ProviderType['callback']> | undefined;
    void fastify.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', (_req, _payload, done) => done(null));
      const toProvider = async (req: FastifyRequest, reply: FastifyReply) => {
        callback ??= (await this.provider()).callback();
        reply.hijack();
        const raw = req.raw as IncomingMessage & { originalUrl?: string };
        // oidc-provider finds its mount path from originalUrl minus url (as under express's app.use).
        raw.originalUrl = raw.url;
        raw.url = raw.url!.slice('/oidc'.length) || '/';
        callback(raw, reply.raw);
      };
      scope.all('/oidc', toProvider);
      scope.all('/oidc/*', toProvider);
      scope.get<{ Params: { uid: string } }>('/sign-in/:uid', (req, reply) => this.interaction(req, reply));
      scope.post<{ Params: { uid: string } }>('/sign-in/:uid', (req, reply) => this.interaction(req, reply));
      scope.get(SSO_CALLBACK_PATH, (req, reply) => this.ssoCallback(req, reply));
      scope.get<{ Params: { uid: string; connection: string } }>('/sign-in/:uid/sso/:connection', (req, reply) =>
        this.withInteraction(req, reply, (_provider, details, res) => this.ssoStart(details, req.params.connection, res)),
      );
      scope.get<{ Params: { uid: string }; Querystring: { state?: string } }>('/sign-in/:uid/sso-done', (req, reply) =>
        this.withInteraction(req, reply, (provider, details, res) => this.ssoDone(provider, req.raw, res, details, String(req.query.state ?? ''))),
      );
    });
  }

  /** Runs `step` in the interaction of the request, answering "expired" for an unknown or ended one. */
  private async withInteraction(
    req: FastifyRequest<{ Params: { uid: string } }>,
    reply: FastifyReply,
    step: (provider: ProviderType, details: Details, res: ServerResponse) => Promise<void>,
  ): Promise<void> {
    const provider = await this.provider();
    reply.hijack();
    const res = reply.raw;
    try {
      const details = await provider.interactionDetails(req.raw, res);
      if (details.uid !== req.params.uid) throw new Error('interaction of another path');
      await step(provider, details, res);
    } catch (err) {
      // An unknown or expired interaction (the 5-minute window), or a body too large.
      this.logger.info({ err: (err as Error).message }, 'sign-in interaction refused');
      if (!res.headersSent) html(res, 400, messagePage('Sign-in expired', { detail: 'This sign-in has expired or is unknown.' }));
    }
  }

  private async ssoStart(details: Details, connectionId: string, res: ServerResponse): Promise<void> {
    try {
      const location = await this.sso.start(details.uid, connectionId);
      res.writeHead(303, { location, 'cache-control': 'no-store' }).end();
    } catch (err) {
      if (!(err instanceof ProblemError)) throw err;
      html(res, err.status, signInPage({ action: `/sign-in/${details.uid}`, error: pageError(err), sso: await this.sso.choices(details.uid) }));
    }
  }

  private async ssoCallback(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    reply.hijack();
    const res = reply.raw;
    const query = (req.raw.url ?? '').split('?')[1] ?? '';
    try {
      const location = await this.sso.callback(query);
      if (location) res.writeHead(303, { location, 'cache-control': 'no-store' }).end();
      else html(res, 400, messagePage('Sign-in expired', { detail: 'This SSO sign-in has expired, is unknown or was already used.' }));
    } catch (err) {
      this.logger.error({ err }, 'SSO callback failed');
      if (!res.headersSent) html(res, 500, messagePage('Sign-in failed', { detail: 'The SSO sign-in could not be completed.' }));
    }
  }

  private async ssoDone(provider: ProviderType, req: IncomingMessage, res: ServerResponse, details: Details, state: string): Promise<void> {
    const outcome = await this.sso.outcome(details.uid, state);
    if (!outcome) return html(res, 400, messagePage('Sign-in expired', { detail: 'This SSO sign-in has expired, is unknown or was already used.' }));
    if ('error' in outcome) {
      const sso = await this.sso.choices(details.uid);
      return html(res, outcome.error.status, signInPage({ action: `/sign-in/${details.uid}`, error: pageError(outcome.error), sso }));
    }
    await this.finish(provider, req, res, outcome.accountId, details);
  }

  private async interaction(req: FastifyRequest<{ Params: { uid: string } }>, reply: FastifyReply): Promise<void> {
    await this.withInteraction(req, reply, async (provider, details, res) => {
      const action = `/sign-in/${details.uid}`;
      if (details.prompt.name === 'consent' && details.session?.accountId) {
        // First-party client: consent is implied by signing in.
        return this.finish(provider, req.raw, res, details.session.accountId, details);
      }
      const page = async (status: number, error?: PageError, username?: string) =>
        html(res, status, signInPage({ action, username, error, sso: await this.sso.choices(details.uid) }));
      if (req.method === 'GET') return page(200);
      const form = new URLSearchParams(await readBody(req.raw));
      if (form.get('step') === 'totp') return this.totpStep(provider, req.raw, res, details, form);
      const username = form.get('username') ?? '';
      const password = form.get('password') ?? '';
      const code = (form.get('signup_code') ?? '').trim();
      let accountId: string | undefined;
      if (code !== '') {
        try {
          accountId = (await this.signUp.execute({ signupCode: code, username, password })).id;
        } catch (err) {
          if (!(err instanceof ProblemError)) throw err;
          return page(err.status, { detail: err.detail }, username);
        }
      } else {
        accountId = (await this.authenticate.execute({ username, password }))?.id;
      }
      if (!accountId) return page(401, { detail: 'wrong username or password' }, username);
      if (await this.secondFactor.enrolment(accountId)) {
        await this.payloads.upsert(PASSWORD_STEP, details.uid, { accountId }, 300);
        return html(res, 200, totpPage({ action }));
      }
      await this.finish(provider, req.raw, res, accountId, details);
    });
  }

  /** The code (or a recovery code) after a right password; throttled and single use (CheckSecondFactorUseCase). */
  private async totpStep(provider: ProviderType, req: IncomingMessage, res: ServerResponse, details: Details, form: URLSearchParams): Promise<void> {
    const action = `/sign-in/${details.uid}`;
    const step = await this.payloads.find(PASSWORD_STEP, details.uid);
    if (typeof step?.accountId !== 'string') {
      return html(res, 400, signInPage({ action, error: { detail: 'enter your password first' }, sso: await this.sso.choices(details.uid) }));
    }
    try {
      await this.secondFactor.execute({ accountId: step.accountId, code: form.get('totp_code') ?? undefined, recoveryCode: form.get('recovery_code') ?? undefined });
    } catch (err) {
      if (!(err instanceof ProblemError)) throw err;
      return html(res, err.status, totpPage({ action, error: pageError(err) }));
    }
    await this.payloads.destroy(PASSWORD_STEP, details.uid);
    await this.finish(provider, req, res, step.accountId, details);
  }

  private async finish(
    provider: ProviderType,
    req: IncomingMessage,
    res: ServerResponse,
    accountId: string,
    details: Details,
  ): Promise<void> {
    const grant = details.grantId
      ? ((await provider.Grant.find(details.grantId)) ?? new provider.Grant({ accountId, clientId: String(details.params.client_id) }))
      : new provider.Grant({ accountId, clientId: String(details.params.client_id) });
    grant.addOIDCScope(typeof details.params.scope === 'string' ? details.params.scope : SESSION_SCOPES);
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
  }
}

function html(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline';",
    'x-frame-options': 'DENY',
  });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_FORM_BYTES) {
        reject(new Error('form too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
