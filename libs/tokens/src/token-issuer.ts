import { Inject, Injectable, Optional } from '@nestjs/common';

import {
  AccessTokenClaims,
  hashOpaqueSecret,
  mqttUsername,
  newRefreshToken,
  newTokenId,
  randomHex,
  signAccessToken,
  type WillPolicy,
} from '@signet/credentials';
import { METRICS } from '@signet/observability';
import type { SignetMetrics } from '@signet/observability';
import type { Permissions } from '@signet/permissions';

import { TOKENS_OPTIONS, TokensOptions } from './options';
import { SigningKeysService } from './signing-keys/signing-keys.service';
import { IdpOrigin, NewRefreshToken, NewToken, OrgLimits, TOKEN_REPOSITORY, TokenRepository } from './token.repository';

export interface IssueRequest {
  orgId: string;
  userId: string;
  clientId: string | null;
  permissions: Permissions;
  ttlSeconds: number;
  /** Existing family when refreshing; a new one otherwise. */
  familyId?: string;
  /** The IdP origin of an exchanged token (kept across refreshes). */
  idp?: IdpOrigin | null;
}

export interface IssuedCredentials {
  tokenId: string;
  username: string;
  /** `tkn_…` */
  password: string;
  expiresAt: Date;
  /** `rt_…` */
  refreshToken: string;
  refreshExpiresAt: Date;
}

export const newFamilyId = (): string => `fam_${randomHex(12)}`;
const newRefreshId = (): string => `rtk_${randomHex(12)}`;

/** What a caller decides once it knows the org: everything of an {@link IssueRequest} but the org. */
export type IssueInOrgRequest = Omit<IssueRequest, 'orgId' | 'familyId'>;

/** A minted token: the credentials to answer with, once the rows are stored. */
export interface MintedToken {
  credentials: IssuedCredentials;
  token: NewToken;
  refresh: NewRefreshToken;
}

/** Attempts at issuing under an org's terms; each after the first reads them afresh. */
const TERMS_ATTEMPTS = 3;

/**
 * Mints an access token and its refresh token: the `tkn_` is signed, only its
 * metadata is stored; the `rt_` is stored as its SHA-256. Every way of getting
 * a `tkn_` (issue, refresh, IdP exchange) ends here. The org's terms (its TTL
 * cap and will policy, which travels in the token) may come from a cache: the
 * statement that stores the token stores it only if the org still has them,
 * so a settings change applies to the very next token on every replica.
 */
@Injectable()
export class TokenIssuer {
  constructor(
    @Inject(SigningKeysService) private readonly signingKeys: Pick<SigningKeysService, 'signingKey'>,
    @Inject(TOKENS_OPTIONS) private readonly options: TokensOptions,
    @Inject(TOKEN_REPOSITORY) private readonly tokens: TokenRepository,
    @Optional() @Inject(METRICS) private readonly metrics?: SignetMetrics,
  ) {}

  /**
   * Reads the org's terms (`orgGone()` is thrown when it no longer exists),
   * lets `decide` apply the caller's policy to them (the TTL cap), and issues
   * through the repository's group-committed insert. POST /v1/tokens and the
   * IdP exchange both end here; answered only once the rows are committed.
   */
  async issueInOrg(orgId: string, orgGone: () => Error, decide: (org: OrgLimits) => IssueInOrgRequest): Promise<IssuedCredentials> {
    for (let attempt = 0; attempt < TERMS_ATTEMPTS; attempt++) {
      const terms = await this.tokens.orgTerms(orgId, attempt > 0);
      if (!terms) throw orgGone();
      const minted = await this.mint({ orgId: terms.id, ...decide(terms) }, terms.willOnRevoke);
      if (await this.tokens.insert(terms, minted.token, minted.refresh)) return this.issued(minted);
    }
    if (!(await this.tokens.orgTerms(orgId, true))) throw orgGone();
    throw new Error(`the terms of org ${orgId} kept changing during issuance`);
  }

  /** Counts a token once its rows are committed: a refused write handed out nothing. */
  issued(minted: MintedToken): IssuedCredentials {
    this.metrics?.tokensIssued.inc();
    return minted.credentials;
  }

  async mint(request: IssueRequest, willOnRevoke: WillPolicy | undefined, nowMs = Date.now()): Promise<MintedToken> {
    const tokenId = newTokenId();
    const familyId = request.familyId ?? newFamilyId();
    // Whole seconds (RFC 7519 NumericDate); expires_at is derived from exp so the row and the token agree.
    const iat = Math.floor(nowMs / 1000);
    const exp = iat + request.ttlSeconds;
    const claims: AccessTokenClaims = {
      sub: request.userId,
      org: request.orgId,
      jti: tokenId,
      iat,
      exp,
      perm: { pub: request.permissions.publish, sub: request.permissions.subscribe },
      ...(request.clientId === null ? {} : { cid: request.clientId }),
      // Only when not the default: default tokens stay as small as before.
      ...(willOnRevoke === 'publish' ? { will: 'publish' as const } : {}),
    };
    const password = await signAccessToken(claims, this.signingKeys.signingKey());
    const expiresAt = new Date(exp * 1000);
    const refreshToken = newRefreshToken();
    const refreshExpiresAt = new Date(nowMs + this.options.refreshTtlSeconds * 1000);
    return {
      credentials: {
        tokenId,
        username: mqttUsername(request.userId, request.orgId),
        password,
        expiresAt,
        refreshToken,
        refreshExpiresAt,
      },
      token: {
        id: tokenId,
        orgId: request.orgId,
        userId: request.userId,
        clientId: request.clientId,
        permissions: request.permissions,
        familyId,
        issuedAt: new Date(iat * 1000),
        expiresAt,
        idp: request.idp ?? null,
      },
      refresh: {
        id: newRefreshId(),
        tokenHash: hashOpaqueSecret(refreshToken),
        familyId,
        tokenId,
        orgId: request.orgId,
        userId: request.userId,
        expiresAt: refreshExpiresAt,
      },
    };
  }
}
