import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import type { ApiKeyPrincipal } from '@signet/api-keys';
import { AccessTokenVerifier, mqttUsername } from '@signet/credentials';
import { badRequest } from '@signet/http';
import { DATA_SOURCE, IssuedTokenEntity } from '@signet/persistence';

import { SigningKeysService } from '../signing-keys/signing-keys.service';
import type { IntrospectionDto, TokenListDto, TokenMetadataDto, TokenStatus } from './dto';
import { checkUserId } from './token-policy';

export interface ListTokensQuery {
  userId?: string;
  status?: TokenStatus;
  limit?: number;
  cursor?: string;
}

const DEFAULT_PAGE = 50;
const MAX_PAGE = 100;

/** Read side of the token API: listing (metadata only, never a secret) and RFC 7662 introspection. */
@Injectable()
export class TokenQueriesService {
  private verifier: AccessTokenVerifier | undefined;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly signingKeys: SigningKeysService,
  ) {}

  /** Newest first, keyset-paginated on (issued_at, id) so pages stay stable while tokens are issued. */
  async list(caller: ApiKeyPrincipal, query: ListTokensQuery): Promise<TokenListDto> {
    const limit = Math.min(Math.max(Math.trunc(Number(query.limit ?? DEFAULT_PAGE)) || DEFAULT_PAGE, 1), MAX_PAGE);
    const qb = this.dataSource
      .getRepository(IssuedTokenEntity)
      .createQueryBuilder('t')
      .where('t.org_id = :orgId', { orgId: caller.orgId })
      .orderBy('t.issued_at', 'DESC')
      .addOrderBy('t.id', 'DESC')
      .limit(limit + 1);
    if (query.userId !== undefined) qb.andWhere('t.user_id = :userId', { userId: checkUserId(query.userId) });
    if (query.status === 'active') qb.andWhere('t.revoked_at IS NULL AND t.expires_at > now()');
    if (query.status === 'expired') qb.andWhere('t.revoked_at IS NULL AND t.expires_at <= now()');
    if (query.status === 'revoked') qb.andWhere('t.revoked_at IS NOT NULL');
    if (query.cursor !== undefined) {
      const { issuedAt, id } = decodeCursor(query.cursor);
      qb.andWhere('(t.issued_at, t.id) < (:issuedAt, :id)', { issuedAt, id });
    }
    const rows = await qb.getMany();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const now = Date.now();
    return {
      tokens: page.map((row) => toMetadata(row, now)),
      next_cursor: rows.length > limit && last ? encodeCursor(last) : null,
    };
  }

  /**
   * RFC 7662: `active` is true only for a token this server issued to the
   * caller's org, correctly signed, unexpired and unrevoked. Every other case,
   * including tokens of another org, is a bare `{ active: false }` (§2.2), so
   * introspection reveals nothing about tokens the caller does not own.
   */
  async introspect(caller: ApiKeyPrincipal, token: string): Promise<IntrospectionDto> {
    const inactive: IntrospectionDto = { active: false };
    // No clock tolerance: introspection is authoritative about expiry.
    this.verifier ??= new AccessTokenVerifier(this.signingKeys.verifierKeyResolver(), 0);
    let claims;
    try {
      claims = await this.verifier.verify(token);
    } catch {
      return inactive;
    }
    if (claims.org !== caller.orgId) return inactive;
    const row = await this.dataSource.getRepository(IssuedTokenEntity).findOneBy({ id: claims.jti, orgId: caller.orgId });
    if (!row || row.revokedAt !== null || row.expiresAt.getTime() <= Date.now()) return inactive;
    return {
      active: true,
      sub: claims.sub,
      org_id: claims.org,
      client_id: claims.cid ?? null,
      exp: claims.exp,
      iat: claims.iat,
      jti: claims.jti,
      // RFC 7662 §2.2 refers to RFC 6749 §7.1 token types: tkn_ is a bearer credential.
      token_type: 'Bearer',
      username: mqttUsername(claims.sub, claims.org),
      permissions: { publish: claims.perm.pub, subscribe: claims.perm.sub },
    };
  }
}

function toMetadata(row: IssuedTokenEntity, now: number): TokenMetadataDto {
  const status: TokenStatus = row.revokedAt !== null ? 'revoked' : row.expiresAt.getTime() <= now ? 'expired' : 'active';
  return {
    token_id: row.id,
    user_id: row.userId,
    client_id: row.clientId,
    permissions: { publish: row.permissions.publish, subscribe: row.permissions.subscribe },
    issued_at: row.issuedAt.toISOString(),
    expires_at: row.expiresAt.toISOString(),
    revoked_at: row.revokedAt?.toISOString() ?? null,
    status,
  };
}

/** Opaque to clients; base64url of "<issued_at ISO>|<token id>". */
const encodeCursor = (row: IssuedTokenEntity): string =>
  Buffer.from(`${row.issuedAt.toISOString()}|${row.id}`, 'utf8').toString('base64url');

function decodeCursor(cursor: string): { issuedAt: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const issuedAt = new Date(iso ?? '');
  if (!id || Number.isNaN(issuedAt.getTime())) throw badRequest('invalid_cursor', 'cursor is not one this API returned');
  return { issuedAt, id };
}
