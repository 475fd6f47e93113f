import { Inject, Injectable, Optional } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { SignetConfig } from '@signet/config';
import { SIGNET_CONFIG } from '@signet/config';
import {
  AccessTokenClaims,
  hashOpaqueSecret,
  mqttUsername,
  newRefreshToken,
  newTokenId,
  randomHex,
  signAccessToken,
} from '@signet/credentials';
import type { SignetMetrics } from '@signet/observability';
import { METRICS } from '@signet/observability';
import type { Permissions } from '@signet/permissions';
import { IssuedTokenEntity, OrgSettingsEntity, RefreshTokenEntity, runAfterCommit } from '@signet/persistence';

import { SigningKeysService } from '../signing-keys/signing-keys.service';

export interface IssueRequest {
  orgId: string;
  userId: string;
  clientId: string | null;
  permissions: Permissions;
  ttlSeconds: number;
  /** Existing family when refreshing; a new one otherwise. */
  familyId?: string;
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

/**
 * Mints an access token and its refresh token inside the caller's
 * transaction: the `tkn_` is signed, only its metadata is stored; the `rt_`
 * is stored as its SHA-256. Every way of getting a `tkn_` (issue, refresh,
 * IdP exchange) ends here, so the org's will policy is read here: one
 * primary-key lookup in the same transaction, so a change applies to the
 * very next token on every replica.
 */
@Injectable()
export class TokenIssuer {
  constructor(
    private readonly signingKeys: SigningKeysService,
    @Inject(SIGNET_CONFIG) private readonly config: SignetConfig,
    @Optional() @Inject(METRICS) private readonly metrics?: SignetMetrics,
  ) {}

  async issue(manager: EntityManager, request: IssueRequest, nowMs = Date.now()): Promise<IssuedCredentials> {
    const tokenId = newTokenId();
    const familyId = request.familyId ?? newFamilyId();
    // Whole seconds (RFC 7519 NumericDate); expires_at is derived from exp so the row and the token agree.
    const iat = Math.floor(nowMs / 1000);
    const exp = iat + request.ttlSeconds;
    const settings = await manager.findOne(OrgSettingsEntity, { where: { orgId: request.orgId }, select: { willOnRevoke: true } });
    const claims: AccessTokenClaims = {
      sub: request.userId,
      org: request.orgId,
      jti: tokenId,
      iat,
      exp,
      perm: { pub: request.permissions.publish, sub: request.permissions.subscribe },
      ...(request.clientId === null ? {} : { cid: request.clientId }),
      // Only when not the default: default tokens stay as small as before.
      ...(settings?.willOnRevoke === 'publish' ? { will: 'publish' as const } : {}),
    };
    const password = await signAccessToken(claims, this.signingKeys.signingKey());
    const expiresAt = new Date(exp * 1000);
    await manager.insert(IssuedTokenEntity, {
      id: tokenId,
      orgId: request.orgId,
      userId: request.userId,
      clientId: request.clientId,
      permissions: { publish: request.permissions.publish, subscribe: request.permissions.subscribe },
      familyId,
      issuedAt: new Date(iat * 1000),
      expiresAt,
      revokedAt: null,
      revokeReason: null,
    });

    const refreshToken = newRefreshToken();
    const refreshExpiresAt = new Date(nowMs + this.config.tokens.refreshTtlSeconds * 1000);
    await manager.insert(RefreshTokenEntity, {
      id: newRefreshId(),
      tokenHash: hashOpaqueSecret(refreshToken),
      familyId,
      tokenId,
      orgId: request.orgId,
      userId: request.userId,
      expiresAt: refreshExpiresAt,
      usedAt: null,
      revokedAt: null,
    });
    // Counted once committed: a rolled-back issue handed out nothing.
    if (this.metrics) {
      const metrics = this.metrics;
      runAfterCommit(manager, () => metrics.tokensIssued.inc());
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

/** The wire shape of issued credentials (POST /v1/tokens and /v1/tokens/refresh). */
export const toCredentialsResponse = (c: IssuedCredentials) => ({
  token_id: c.tokenId,
  mqtt_credentials: { username: c.username, password: c.password },
  expires_at: c.expiresAt.toISOString(),
  refresh_token: c.refreshToken,
  refresh_expires_at: c.refreshExpiresAt.toISOString(),
});
