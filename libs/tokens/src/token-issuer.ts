import { Inject, Injectable, Optional } from '@nestjs/common';

import {
  AccessTokenClaims,
  hashOpaqueSecret,
  mqttUsername,
  newRefreshToken,
  newTokenId,
  randomHex,
  signAccessToken,
} from '@signet/credentials';
import { METRICS } from '@signet/observability';
import type { SignetMetrics } from '@signet/observability';
import type { Permissions } from '@signet/permissions';

import { TOKENS_OPTIONS, TokensOptions } from './options';
import { SigningKeysService } from './signing-keys/signing-keys.service';
import { IdpOrigin, OrgLimits, TOKEN_REPOSITORY, TokenRepository, TokenTransaction } from './token.repository';

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

/**
 * Mints an access token and its refresh token inside the caller's
 * transaction: the `tkn_` is signed, only its metadata is stored; the `rt_`
 * is stored as its SHA-256. Every way of getting a `tkn_` (issue, refresh,
 * IdP exchange) ends here, so the org's will policy is read here, in the
 * same transaction (with the org: one round trip).
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
   * One transaction: reads the org (`orgGone()` is thrown when it no longer
   * exists), lets `decide` apply the caller's policy to it (the TTL cap), and
   * issues. POST /v1/tokens and the IdP exchange both end here.
   */
  issueInOrg(orgId: string, orgGone: () => Error, decide: (org: OrgLimits) => IssueInOrgRequest): Promise<IssuedCredentials> {
    return this.tokens.transaction(async (tx) => {
      const org = await tx.findOrg(orgId);
      if (!org) throw orgGone();
      return this.issue(tx, { orgId: org.id, ...decide(org) });
    });
  }

  async issue(tx: TokenTransaction, request: IssueRequest, nowMs = Date.now()): Promise<IssuedCredentials> {
    const tokenId = newTokenId();
    const familyId = request.familyId ?? newFamilyId();
    // Whole seconds (RFC 7519 NumericDate); expires_at is derived from exp so the row and the token agree.
    const iat = Math.floor(nowMs / 1000);
    const exp = iat + request.ttlSeconds;
    const willOnRevoke = await tx.willPolicy(request.orgId);
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
    await tx.insert(
      {
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
      {
        id: newRefreshId(),
        tokenHash: hashOpaqueSecret(refreshToken),
        familyId,
        tokenId,
        orgId: request.orgId,
        userId: request.userId,
        expiresAt: refreshExpiresAt,
      },
    );
    // Counted once committed: a rolled-back issue handed out nothing.
    if (this.metrics) {
      const metrics = this.metrics;
      tx.afterCommit(() => metrics.tokensIssued.inc());
    }
    return {
      tokenId,
      username: mqttUsername(request.userId, request.orgId),
      password,
      expiresAt,
      refreshToken,
      refreshExpiresAt,
    };
  }
}
