import { Inject, Injectable } from '@nestjs/common';

import { ProblemError } from '@signet/http';

import { ssoNotConfigured } from '../errors';
import { ACCOUNTS_OPTIONS, AccountsOptions } from '../options';
import { SsoClient } from '../sso/sso-client';
import { SSO_REPOSITORY, SsoRepository } from '../sso/sso.repository';
import { SsoSignInUseCase } from '../usecases/sso-sign-in/sso-sign-in.usecase';
import { OIDC_PAYLOAD_REPOSITORY, OidcPayloadRepository } from './oidc-payload.repository';
import type { SsoChoice } from './page';

/** The authorization request in flight, by its `state` (single use, the interaction's 5 minutes). */
const SSO_REQUEST = 'SsoRequest';
/** The outcome of the callback, for the interaction to finish (by the same `state`). */
const SSO_OUTCOME = 'SsoOutcome';
const TTL_S = 300;

export type SsoOutcome = { accountId: string } | { error: ProblemError };

/**
 * SSO inside a sign-in interaction: the button leads to the org's provider, the provider comes back to
 * one fixed callback (the redirect URI registered there), and the callback hands the outcome to the
 * interaction it started from. What travels between the steps stays server side, keyed by `state`
 * (oidc_payloads), so nothing but `state` and the code pass through the browser. The interaction
 * cookie (path /sign-in/<uid>) does not reach the callback; the outcome is picked up under the
 * interaction's path, where oidc-provider checks that cookie: a sign-in cannot be finished in a
 * browser that did not start it.
 */
@Injectable()
export class SsoSignIn {
  constructor(
    @Inject(ACCOUNTS_OPTIONS) private readonly options: AccountsOptions,
    @Inject(OIDC_PAYLOAD_REPOSITORY) private readonly payloads: OidcPayloadRepository,
    @Inject(SSO_REPOSITORY) private readonly connections: SsoRepository,
    private readonly client: SsoClient,
    private readonly signIn: SsoSignInUseCase,
  ) {}

  async choices(uid: string): Promise<SsoChoice[]> {
    return (await this.connections.listForSignIn()).map((c) => ({ href: `/sign-in/${uid}/sso/${encodeURIComponent(c.id)}`, name: c.name }));
  }

  /** The provider's authorization URL for interaction `uid`; throws a ProblemError (unknown connection, discovery). */
  async start(uid: string, connectionId: string): Promise<string> {
    const connection = await this.connections.findById(connectionId);
    if (!connection) throw ssoNotConfigured();
    const request = await this.client.authorizationRequest(await this.client.configuration(connection), this.options.ssoRedirectUri);
    await this.payloads.upsert(SSO_REQUEST, request.state, { uid, connectionId, strategyState: request.strategyState }, TTL_S);
    return request.url;
  }

  /**
   * The provider's redirect back (`query` as received): redeems the code, finds the account, and
   * stores the outcome. Answers where to send the browser (the interaction's path), or null when the
   * state is unknown or spent.
   */
  async callback(query: string): Promise<string | null> {
    const params = new URLSearchParams(query);
    const state = params.get('state') ?? '';
    const request = state === '' ? undefined : await this.payloads.find(SSO_REQUEST, state);
    if (!request || typeof request.uid !== 'string') return null;
    await this.payloads.destroy(SSO_REQUEST, state);
    let outcome: SsoOutcome;
    try {
      const connection = await this.connections.findById(String(request.connectionId));
      if (!connection) throw ssoNotConfigured();
      const config = await this.client.configuration(connection);
      const claims = await this.client.callback(config, this.options.ssoRedirectUri, query, request.strategyState as Record<string, unknown>);
      outcome = { accountId: await this.signIn.execute({ connection, claims }) };
    } catch (err) {
      if (!(err instanceof ProblemError)) throw err;
      outcome = { error: err };
    }
    const stored = 'accountId' in outcome ? { uid: request.uid, accountId: outcome.accountId } : { uid: request.uid, status: outcome.error.status, code: outcome.error.code, detail: outcome.error.detail };
    await this.payloads.upsert(SSO_OUTCOME, state, stored, TTL_S);
    return `/sign-in/${request.uid}/sso-done?state=${encodeURIComponent(state)}`;
  }

  /** The outcome stored for interaction `uid` (single use), or null. */
  async outcome(uid: string, state: string): Promise<SsoOutcome | null> {
    const stored = state === '' ? undefined : await this.payloads.find(SSO_OUTCOME, state);
    if (!stored || stored.uid !== uid) return null;
    await this.payloads.destroy(SSO_OUTCOME, state);
    if (typeof stored.accountId === 'string') return { accountId: stored.accountId };
    return { error: new ProblemError(Number(stored.status), String(stored.code), String(stored.detail)) };
  }
}
