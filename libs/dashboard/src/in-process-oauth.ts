import type { FastifyInstance } from 'fastify';

import { DASHBOARD_CLIENT_ID } from '@signet/accounts';

import { signInFailed } from './errors';

export interface TokenSet {
  accessToken: string;
  refreshToken: string;
  expiresAt: number;
}

export class OAuthRefused extends Error {}

/**
 * The dashboard's backend speaks OAuth to the authorization server of its own process through Fastify's
 * inject: no network hop, no port to know, and the client secret never leaves the process.
 */
export class InProcessOAuth {
  constructor(
    private readonly fastify: FastifyInstance,
    private readonly clientSecret: string,
  ) {}

  private async post(path: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
    const basic = Buffer.from(`${encodeURIComponent(DASHBOARD_CLIENT_ID)}:${encodeURIComponent(this.clientSecret)}`).toString('base64');
    const res = await this.fastify.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
      payload: new URLSearchParams(form).toString(),
    });
    let body: Record<string, unknown> = {};
    try {
      body = res.body ? (JSON.parse(res.body) as Record<string, unknown>) : {};
    } catch {
      body = {};
    }
    return { status: res.statusCode, body };
  }

  private async tokens(form: Record<string, string>): Promise<TokenSet> {
    const { status, body } = await this.post('/oidc/token', form);
    if (status !== 200 || typeof body.access_token !== 'string' || typeof body.refresh_token !== 'string') {
      throw new OAuthRefused(typeof body.error === 'string' ? body.error : `status ${status}`);
    }
    const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : 60;
    return { accessToken: body.access_token, refreshToken: body.refresh_token, expiresAt: Date.now() + expiresIn * 1000 };
  }

  async exchangeCode(code: string, redirectUri: string, verifier: string): Promise<TokenSet> {
    try {
      return await this.tokens({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
    } catch (err) {
      if (err instanceof OAuthRefused) throw signInFailed(`the authorization server refused the code (${err.message}); sign in again`);
      throw err;
    }
  }

  /** Rotates the refresh token; OAuthRefused when the grant is gone (revoked, reused, expired). */
  refresh(refreshToken: string): Promise<TokenSet> {
    return this.tokens({ grant_type: 'refresh_token', refresh_token: refreshToken });
  }

  /** RFC 7009: revoking the refresh token revokes the whole grant (every token of this sign-in). */
  async revoke(refreshToken: string): Promise<void> {
    const { status } = await this.post('/oidc/token/revocation', { token: refreshToken, token_type_hint: 'refresh_token' });
    if (status !== 200) throw new OAuthRefused(`revocation answered ${status}`);
  }
}
