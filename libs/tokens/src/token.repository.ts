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
  preparedQuery,
  RefreshTokenEntity,
  sqlState,
  statementInTransaction,
} from '@signet/persistence';

import { GroupCommit } from './group-commit';
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

/**
 * What an issuance is decided on: the org's limits and its will policy (which
 * travels in the token). A token is stored only while the org still has
 * exactly these terms, so terms read from a cache can never outlive a change.
 */
export interface OrgTerms extends OrgLimits {
  /** Undefined when the org never changed its settings (the default, `suppress`). */
  willOnRevoke: WillPolicy | undefined;
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

/** A refresh token, the access token it was issued with (null once pruned) and its org's terms (null: org gone). */
export interface RefreshGrant {
  refresh: RefreshTokenRecord;
  token: TokenRecord | null;
  terms: OrgTerms | null;
}

/** The writes of a refresh token's reuse, in one database transaction. */
export interface TokenTransaction {
  /** The refresh token with this hash, locked until the transaction ends. */
  lockRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | null>;
  /** Revokes every refresh token of the family and its live access tokens; returns those tokens. */
  revokeFamily(familyId: string, reason: string): Promise<RevokedToken[]>;
  /** Records the revocation of `tokens` in this transaction; the edges hear of it once it has committed. */
  recordRevocation(tokens: readonly RevokedToken[], reason: string): Promise<void>;
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
  /** The org's terms, null when it does not exist; `fresh`: read now, not from the cache. */
  orgTerms(orgId: string, fresh?: boolean): Promise<OrgTerms | null>;
  /**
   * Stores a new token and its refresh token, committed when this resolves
   * true; false (nothing stored) when the org no longer has `terms` or is gone.
   */
  insert(terms: OrgTerms, token: NewToken, refresh: NewRefreshToken): Promise<boolean>;
  /** The refresh token with this hash with what refreshing it needs (one read, no lock). */
  findRefreshGrant(tokenHash: string): Promise<RefreshGrant | null>;
  /**
   * Spends refresh token `refreshTokenId` and stores its successor, committed
   * when this resolves true; false (nothing changed) when it is no longer
   * unused, unrevoked and unexpired, or its org no longer has `terms`. Of two
   * concurrent rotations of one refresh token, at most one succeeds.
   */
  rotate(refreshTokenId: string, terms: OrgTerms, token: NewToken, refresh: NewRefreshToken): Promise<boolean>;
  /** Newest first on (issued_at, id). */
  list(filter: TokenListFilter): Promise<TokenRecord[]>;
  findInOrg(tokenId: string, orgId: string): Promise<TokenRecord | null>;
}

export const TOKEN_REPOSITORY = Symbol('TOKEN_REPOSITORY');

/** A new token, its refresh token, the terms it was decided on and (refresh) the refresh token it spends. */
interface TokenWrite {
  terms: OrgTerms;
  token: NewToken;
  refresh: NewRefreshToken;
  spends?: string;
}

/*
 * Token writes take their rows as arrays (unnest), so one statement text
 * serves a batch of any size. The refresh token's row takes family, org, user
 * and token from its access token's (the issuer makes them equal); its
 * foreign key is checked at the end of the statement, when the token exists.
 */
const WRITE_ROWS = `unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[],
                           $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::timestamptz[], $15::int[], $16::text[], $17::text[])
                    AS v(id, org_id, user_id, client_id, permissions, family_id, issued_at, expires_at,
                         idp_provider_id, idp_session_id, idp_subject, refresh_id, refresh_hash, refresh_expires_at, max_ttl, will, spends)`;
/** The org still has the terms the row was decided on (`will` '' for no settings row). */
const TERMS_HOLD = `JOIN orgs o ON o.id = v.org_id LEFT JOIN org_settings s ON s.org_id = v.org_id`;
const TERMS_MATCH = `o.max_token_ttl_seconds IS NOT DISTINCT FROM v.max_ttl AND COALESCE(s.will_on_revoke, '') = v.will`;
const STORE_OK = `token AS (
         INSERT INTO issued_tokens (id, org_id, user_id, client_id, permissions, family_id, issued_at, expires_at, revoked_at, revoke_reason,
                                    idp_provider_id, idp_session_id, idp_subject)
         SELECT id, org_id, user_id, client_id, permissions::jsonb, family_id, issued_at, expires_at, NULL, NULL,
                idp_provider_id, idp_session_id, idp_subject
           FROM ok
       )
       INSERT INTO refresh_tokens (id, token_hash, family_id, token_id, org_id, user_id, expires_at, used_at, revoked_at)
       SELECT refresh_id, refresh_hash, family_id, id, org_id, user_id, refresh_expires_at, NULL, NULL FROM ok
       RETURNING token_id`;

const INSERT_SQL = `WITH v AS (SELECT * FROM ${WRITE_ROWS}),
       ok AS (SELECT v.* FROM v ${TERMS_HOLD} WHERE ${TERMS_MATCH}),
       ${STORE_OK}`;

// RETURNING v.id: of two rows spending one refresh token, only the one the update used goes on. The plan must find
// the spent rows by primary key (ANY($17)): joined to unnest alone, or with `revoked_at IS NULL` as an index
// condition (the COALESCE keeps it a filter), it scanned the whole table or one of its indexes on every call.
// Unused and unrevoked: used_at and revoked_at both NULL.
const ROTATE_SQL = `WITH v AS (SELECT * FROM ${WRITE_ROWS}),
       spent AS (
         UPDATE refresh_tokens r SET used_at = now()
           FROM v ${TERMS_HOLD}
          WHERE r.id = ANY($17::text[]) AND r.id = v.spends AND COALESCE(r.used_at, r.revoked_at) IS NULL AND r.expires_at > now()
            AND ${TERMS_MATCH}
         RETURNING v.id
       ),
       ok AS (SELECT v.* FROM v JOIN spent USING (id)),
       ${STORE_OK}`;

const ORG_TERMS_SQL = `SELECT o.id, o.max_token_ttl_seconds, s.will_on_revoke
  FROM orgs o LEFT JOIN org_settings s ON s.org_id = o.id WHERE o.id = $1`;

// Token columns named as IssuedTokenEntity's properties, so toRecord reads the row; t.id is null once the token is pruned.
const REFRESH_GRANT_SQL = `SELECT r.id AS "refreshId", r.token_hash AS "tokenHash", r.expires_at AS "refreshExpiresAt", r.used_at AS "usedAt",
       r.revoked_at AS "refreshRevokedAt", r.family_id AS "familyId", r.token_id AS "tokenId", r.org_id AS "orgId", r.user_id AS "userId",
       t.id, t.client_id AS "clientId", t.permissions, t.issued_at AS "issuedAt", t.expires_at AS "expiresAt", t.revoked_at AS "revokedAt",
       t.idp_provider_id AS "idpProviderId", t.idp_session_id AS "idpSessionId", t.idp_subject AS "idpSubject",
       o.id AS "termsOrgId", o.max_token_ttl_seconds, s.will_on_revoke
  FROM refresh_tokens r
  LEFT JOIN issued_tokens t ON t.id = r.token_id
  LEFT JOIN orgs o ON o.id = r.org_id
  LEFT JOIN org_settings s ON s.org_id = r.org_id
 WHERE r.token_hash = ANY($1::text[])`;

interface OrgTermsRow {
  max_token_ttl_seconds: number | null;
  will_on_revoke: WillPolicy | null;
}

interface RefreshGrantRow extends OrgTermsRow, Omit<TokenRow, 'id'> {
  id: string | null;
  refreshId: string;
  tokenHash: string;
  refreshExpiresAt: Date;
  usedAt: Date | null;
  refreshRevokedAt: Date | null;
  tokenId: string;
  termsOrgId: string | null;
}

/*
 * Org terms are cached: an issuance saves the read, and cannot use stale
 * terms, since its insert re-checks them and a mismatch re-reads. The age
 * bound only keeps unused entries from piling up.
 */
const ORG_TERMS_MAX_AGE_MS = 60_000;
const ORG_TERMS_MAX_ENTRIES = 10_000;
const FOREIGN_KEY_VIOLATION = '23503';

const termsOf = (id: string, row: OrgTermsRow): OrgTerms => ({
  id,
  maxTokenTtlSeconds: row.max_token_ttl_seconds,
  willOnRevoke: row.will_on_revoke ?? undefined,
});

function writeColumns(rows: readonly TokenWrite[]): unknown[] {
  const column = (f: (w: TokenWrite) => unknown): unknown[] => rows.map(f);
  return [
    column((w) => w.token.id),
    column((w) => w.token.orgId),
    column((w) => w.token.userId),
    column((w) => w.token.clientId),
    column((w) => JSON.stringify({ publish: w.token.permissions.publish, subscribe: w.token.permissions.subscribe })),
    column((w) => w.token.familyId),
    column((w) => w.token.issuedAt),
    column((w) => w.token.expiresAt),
    column((w) => w.token.idp?.providerId ?? null),
    column((w) => w.token.idp?.sessionId ?? null),
    column((w) => w.token.idp?.subject ?? null),
    column((w) => w.refresh.id),
    column((w) => w.refresh.tokenHash),
    column((w) => w.refresh.expiresAt),
    column((w) => w.terms.maxTokenTtlSeconds),
    column((w) => w.terms.willOnRevoke ?? ''),
    column((w) => w.spends ?? null),
  ];
}

@Injectable()
export class TypeOrmTokenRepository implements TokenRepository {
  private readonly terms = new Map<string, { terms: OrgTerms | null; at: number }>();
  private inserts?: GroupCommit<TokenWrite>;
  private grantReads?: GroupCommit<string, RefreshGrantRow | undefined>;
  private rotations?: GroupCommit<TokenWrite>;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(RevocationPublisher) private readonly revocations: RevocationPublisher<EntityManager>,
  ) {}

  transaction<T>(work: (tx: TokenTransaction) => Promise<T>): Promise<T> {
    return inTransaction(this.dataSource, (manager) => work(new TypeOrmTokenTransaction(manager, this.revocations)));
  }

  async orgTerms(orgId: string, fresh = false): Promise<OrgTerms | null> {
    const cached = this.terms.get(orgId);
    if (!fresh && cached && Date.now() - cached.at < ORG_TERMS_MAX_AGE_MS) return cached.terms;
    const rows = await preparedQuery<OrgTermsRow>(this.dataSource, 'signet_org_terms', ORG_TERMS_SQL, [orgId]);
    const terms = rows[0] ? termsOf(orgId, rows[0]) : null;
    this.remember(orgId, terms);
    return terms;
  }

  private remember(orgId: string, terms: OrgTerms | null): void {
    if (this.terms.size >= ORG_TERMS_MAX_ENTRIES) this.terms.clear();
    this.terms.set(orgId, { terms, at: Date.now() });
  }

  async insert(terms: OrgTerms, token: NewToken, refresh: NewRefreshToken): Promise<boolean> {
    this.inserts ??= this.groupCommit(INSERT_SQL);
    const written = await this.inserts.submit({ terms, token, refresh });
    if (!written) this.terms.delete(terms.id);
    return written;
  }

  async findRefreshGrant(tokenHash: string): Promise<RefreshGrant | null> {
    // Concurrent refreshes share one read too: on the embedded database every statement costs this process's CPU.
    this.grantReads ??= new GroupCommit<string, RefreshGrantRow | undefined>(async (hashes) => {
      const rows = await preparedQuery<RefreshGrantRow>(this.dataSource, 'signet_refresh_grants', REFRESH_GRANT_SQL, [hashes]);
      const byHash = new Map(rows.map((r) => [r.tokenHash, r]));
      return hashes.map((h) => byHash.get(h));
    }, this.batchesInFlight());
    const row = await this.grantReads.submit(tokenHash);
    if (!row) return null;
    const terms = row.termsOrgId === null ? null : termsOf(row.termsOrgId, row);
    this.remember(row.orgId, terms);
    const { refreshId, familyId, tokenId, orgId, userId, usedAt } = row;
    return {
      refresh: { id: refreshId, tokenHash: row.tokenHash, familyId, tokenId, orgId, userId, expiresAt: row.refreshExpiresAt, usedAt, revokedAt: row.refreshRevokedAt },
      token: row.id === null ? null : toRecord({ ...row, id: row.id }),
      terms,
    };
  }

  async rotate(refreshTokenId: string, terms: OrgTerms, token: NewToken, refresh: NewRefreshToken): Promise<boolean> {
    this.rotations ??= this.groupCommit(ROTATE_SQL);
    return this.rotations.submit({ terms, token, refresh, spends: refreshTokenId });
  }

  private groupCommit(text: string): GroupCommit<TokenWrite> {
    return new GroupCommit<TokenWrite>(async (rows) => {
      let stored: { token_id: string }[];
      try {
        // In a transaction of its own, not autocommitted: COMMIT is sent only once the statement has answered and
        // the deadline allows, so a write whose answer is lost (a stalled link) never commits behind a 503. BEGIN
        // travels with the statement (one round trip less per batch).
        stored = await statementInTransaction<{ token_id: string }>(this.dataSource, text, writeColumns(rows));
      } catch (err) {
        // The org was deleted under a lone row: not stored, as for changed terms.
        if (rows.length === 1 && sqlState(err) === FOREIGN_KEY_VIOLATION) return [false];
        throw err;
      }
      const ids = new Set(stored.map((r) => r.token_id));
      return rows.map((r) => ids.has(r.token.id));
    }, this.batchesInFlight());
  }

  /** Two batches in flight where the pool allows (one fills while the other runs); one on the embedded database. */
  private batchesInFlight(): number {
    const poolSize = (this.dataSource.driver as unknown as { master?: { options?: { max?: number } } }).master?.options?.max ?? 1;
    return Math.max(1, Math.min(2, poolSize));
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
}

/** What toRecord reads of an issued token's row. */
type TokenRow = Omit<IssuedTokenEntity, 'revokeReason'>;

function toRecord(row: TokenRow): TokenRecord {
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
