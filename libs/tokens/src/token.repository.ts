import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

import type { WillPolicy } from '@signet/credentials';
import type { Permissions } from '@signet/permissions';
import { RevocationPublisher } from '@signet/revocation';
import {
  DATA_SOURCE,
  inTransaction,
  IssuedTokenEntity,
  keysetAfter,
  KeysetPosition,
  OrgSettingsEntity,
  RefreshTokenEntity,
  runAfterCommit,
} from '@signet/persistence';

import { latest, RevokedToken, revokeLiveTokens } from './usecases/revoke/revoke.usecase';

/*
 * The SQL of issued tokens (`issued_tokens`) and their refresh tokens
 * (`refresh_tokens`). Use cases depend on the interfaces; only
 * TypeOrmTokenRepository talks to PostgreSQL.
 */

export const TOKEN_STATUSES = ['active', 'expired', 'revoked'] as const;
export type TokenStatus = (typeof TOKEN_STATUSES)[number];

/** What issuance needs of an org. */
export interface OrgLimits {
  id: string;
  /** The org's own TTL cap; null: only the process maximum. */
  maxTokenTtlSeconds: number | null;
}

/** Where an exchanged token came from, so the IdP's sign-out events find it. */
export interface IdpOrigin {
  providerId: string;
  /** Supabase `session_id`, OIDC `sid`; null when the IdP token names no session. */
  sessionId: string | null;
  /** The IdP user (`sub`). */
  subject: string | null;
}

/** An issued token's metadata (the `tkn_` itself is never stored). */
export interface TokenRecord {
  id: string;
  orgId: string;
  userId: string;
  clientId: string | null;
  permissions: Permissions;
  familyId: string;
  issuedAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  /** Set for tokens exchanged from an IdP token (and the tokens refreshed from them). */
  idp?: IdpOrigin | null;
}

/** A refresh token, stored as the SHA-256 of its `rt_` secret. */
export interface RefreshTokenRecord {
  id: string;
  tokenHash: string;
  familyId: string;
  /** The access token it was issued with. */
  tokenId: string;
  orgId: string;
  userId: string;
  expiresAt: Date;
  usedAt: Date | null;
  revokedAt: Date | null;
}

export type NewToken = Omit<TokenRecord, 'revokedAt'>;
export type NewRefreshToken = Omit<RefreshTokenRecord, 'usedAt' | 'revokedAt'>;

/** The writes of one issuance or refresh, all in one database transaction. */
export interface TokenTransaction {
  findOrg(orgId: string): Promise<OrgLimits | null>;
  /** The org's will policy; undefined when the org never changed its settings. */
  willPolicy(orgId: string): Promise<WillPolicy | undefined>;
  insert(token: NewToken, refresh: NewRefreshToken): Promise<void>;
  /** The refresh token with this hash, locked until the transaction ends (of two concurrent refreshes one wins). */
  lockRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | null>;
  findToken(tokenId: string): Promise<TokenRecord | null>;
  markRefreshTokenUsed(refreshTokenId: string): Promise<void>;
  /** Revokes every refresh token of the family and its live access tokens; returns those tokens. */
  revokeFamily(familyId: string, reason: string): Promise<RevokedToken[]>;
  /** Records the revocation of `tokens` in this transaction; the edges hear of it once it has committed. */
  recordRevocation(tokens: readonly RevokedToken[], reason: string): Promise<void>;
  /** Runs `callback` once the transaction has committed (never when it rolls back). */
  afterCommit(callback: () => void): void;
}

export interface TokenListFilter {
  orgId: string;
  userId?: string;
  status?: TokenStatus;
  /** Only tokens strictly after this position, newest first. */
  after?: KeysetPosition;
  limit: number;
}

export interface TokenRepository {
  /** Runs `work` in one transaction (retried whole on a serialization failure or deadlock). */
  transaction<T>(work: (tx: TokenTransaction) => Promise<T>): Promise<T>;
  /** Newest first on (issued_at, id). */
  list(filter: TokenListFilter): Promise<TokenRecord[]>;
  findInOrg(tokenId: string, orgId: string): Promise<TokenRecord | null>;
}

export const TOKEN_REPOSITORY = Symbol('TOKEN_REPOSITORY');

@Injectable()
export class TypeOrmTokenRepository implements TokenRepository {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(RevocationPublisher) private readonly revocations: RevocationPublisher<EntityManager>,
  ) {}

  transaction<T>(work: (tx: TokenTransaction) => Promise<T>): Promise<T> {
    return inTransaction(this.dataSource, (manager) => work(new TypeOrmTokenTransaction(manager, this.revocations)));
  }

  async list(filter: TokenListFilter): Promise<TokenRecord[]> {
    const qb = this.dataSource
      .getRepository(IssuedTokenEntity)
      .createQueryBuilder('t')
      .where('t.org_id = :orgId', { orgId: filter.orgId })
      .orderBy('t.issued_at', 'DESC')
      .addOrderBy('t.id', 'DESC')
      .limit(filter.limit);
    if (filter.userId !== undefined) qb.andWhere('t.user_id = :userId', { userId: filter.userId });
    if (filter.status === 'active') qb.andWhere('t.revoked_at IS NULL AND t.expires_at > now()');
    if (filter.status === 'expired') qb.andWhere('t.revoked_at IS NULL AND t.expires_at <= now()');
    if (filter.status === 'revoked') qb.andWhere('t.revoked_at IS NOT NULL');
    if (filter.after !== undefined) {
      const after = keysetAfter('t.issued_at', 't.id', filter.after);
      qb.andWhere(after.where, after.parameters);
    }
    return (await qb.getMany()).map(toRecord);
  }

  async findInOrg(tokenId: string, orgId: string): Promise<TokenRecord | null> {
    const row = await this.dataSource.getRepository(IssuedTokenEntity).findOneBy({ id: tokenId, orgId });
    return row ? toRecord(row) : null;
  }
}

class TypeOrmTokenTransaction implements TokenTransaction {
  constructor(
    private readonly manager: EntityManager,
    private readonly revocations: RevocationPublisher<EntityManager>,
  ) {}

  /** Will policies read with the org by findOrg: issuance asks for both, one round trip answers them. */
  private readonly willPolicies = new Map<string, WillPolicy | undefined>();

  async findOrg(orgId: string): Promise<OrgLimits | null> {
    const rows = (await this.manager.query(
      `SELECT o.id, o.max_token_ttl_seconds, s.will_on_revoke
         FROM orgs o LEFT JOIN org_settings s ON s.org_id = o.id
        WHERE o.id = $1`,
      [orgId],
    )) as { id: string; max_token_ttl_seconds: number | null; will_on_revoke: WillPolicy | null }[];
    const org = rows[0];
    if (!org) return null;
    this.willPolicies.set(org.id, org.will_on_revoke ?? undefined);
    return { id: org.id, maxTokenTtlSeconds: org.max_token_ttl_seconds };
  }

  async willPolicy(orgId: string): Promise<WillPolicy | undefined> {
    // Read in the issuing transaction (with the org when findOrg ran), so a change applies to the very next token on every replica.
    if (this.willPolicies.has(orgId)) return this.willPolicies.get(orgId);
    const settings = await this.manager.findOne(OrgSettingsEntity, { where: { orgId }, select: { willOnRevoke: true } });
    return settings?.willOnRevoke;
  }

  async insert({ idp, ...token }: NewToken, refresh: NewRefreshToken): Promise<void> {
    // One statement for both rows: a round trip less per issuance; the foreign key of the refresh token is
    // checked at the end of the statement, when the token row exists.
    await this.manager.query(
      `WITH token AS (
         INSERT INTO issued_tokens (id, org_id, user_id, client_id, permissions, family_id, issued_at, expires_at, revoked_at, revoke_reason,
                                    idp_provider_id, idp_session_id, idp_subject)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, $16, $17, $18)
       )
       INSERT INTO refresh_tokens (id, token_hash, family_id, token_id, org_id, user_id, expires_at, used_at, revoked_at)
       VALUES ($9, $10, $11, $12, $13, $14, $15, NULL, NULL)`,
      [
        token.id,
        token.orgId,
        token.userId,
        token.clientId,
        JSON.stringify({ publish: token.permissions.publish, subscribe: token.permissions.subscribe }),
        token.familyId,
        token.issuedAt,
        token.expiresAt,
        refresh.id,
        refresh.tokenHash,
        refresh.familyId,
        refresh.tokenId,
        refresh.orgId,
        refresh.userId,
        refresh.expiresAt,
        idp?.providerId ?? null,
        idp?.sessionId ?? null,
        idp?.subject ?? null,
      ],
    );
  }

  async lockRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | null> {
    const row = await this.manager
      .getRepository(RefreshTokenEntity)
      .createQueryBuilder('r')
      .setLock('pessimistic_write')
      .where('r.token_hash = :tokenHash', { tokenHash })
      .getOne();
    if (!row) return null;
    const { id, familyId, tokenId, orgId, userId, expiresAt, usedAt, revokedAt } = row;
    return { id, tokenHash: row.tokenHash, familyId, tokenId, orgId, userId, expiresAt, usedAt, revokedAt };
  }

  async findToken(tokenId: string): Promise<TokenRecord | null> {
    const row = await this.manager.findOneBy(IssuedTokenEntity, { id: tokenId });
    return row ? toRecord(row) : null;
  }

  async markRefreshTokenUsed(refreshTokenId: string): Promise<void> {
    await this.manager.update(RefreshTokenEntity, { id: refreshTokenId }, { usedAt: () => 'now()' });
  }

  async revokeFamily(familyId: string, reason: string): Promise<RevokedToken[]> {
    // Lock order: refresh_tokens rows first, then issued_tokens rows (see revoke.usecase.ts).
    await this.manager
      .createQueryBuilder()
      .update(RefreshTokenEntity)
      .set({ revokedAt: () => 'now()' })
      .where('family_id = :familyId AND revoked_at IS NULL', { familyId })
      .execute();
    return revokeLiveTokens(this.manager, 'family_id = :familyId', { familyId }, reason);
  }

  async recordRevocation(tokens: readonly RevokedToken[], reason: string): Promise<void> {
    await this.revocations.record(this.manager, { credentialIds: tokens.map((t) => t.id), until: latest(tokens), reason });
  }

  afterCommit(callback: () => void): void {
    runAfterCommit(this.manager, callback);
  }
}

function toRecord(row: IssuedTokenEntity): TokenRecord {
  return {
    id: row.id,
    orgId: row.orgId,
    userId: row.userId,
    clientId: row.clientId,
    permissions: { publish: row.permissions.publish, subscribe: row.permissions.subscribe },
    familyId: row.familyId,
    issuedAt: row.issuedAt,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
    idp: row.idpProviderId === null ? null : { providerId: row.idpProviderId, sessionId: row.idpSessionId, subject: row.idpSubject },
  };
}
