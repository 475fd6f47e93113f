import type { WillPolicy } from '@signet/credentials';

import type {
  NewRefreshToken,
  NewToken,
  OrgLimits,
  OrgTerms,
  RefreshGrant,
  RefreshTokenRecord,
  TokenListFilter,
  TokenRecord,
  TokenRepository,
  TokenTransaction,
} from '../token.repository';
import type { RevokedToken } from '../usecases/revoke/revoke.usecase';

interface State {
  orgs: Map<string, OrgLimits>;
  willPolicies: Map<string, WillPolicy>;
  tokens: Map<string, TokenRecord>;
  refreshTokens: Map<string, RefreshTokenRecord>;
}

/** A recorded revocation, as TypeOrmTokenRepository would append it to `revocations`. */
export interface RecordedRevocation {
  credentialIds: string[];
  reason: string;
}

const copy = (state: State): State => ({
  orgs: new Map(state.orgs),
  willPolicies: new Map(state.willPolicies),
  tokens: new Map([...state.tokens].map(([id, t]) => [id, { ...t }])),
  refreshTokens: new Map([...state.refreshTokens].map(([id, r]) => [id, { ...r }])),
});

/**
 * TokenRepository in memory, for unit specs of the policies. A transaction
 * works on a copy that replaces the state when the work succeeds (a throw
 * rolls it back, as PostgreSQL would); revocations count only when it
 * commits. No concurrency: the row lock is not modelled.
 */
export class InMemoryTokenRepository implements TokenRepository {
  private state: State = { orgs: new Map(), willPolicies: new Map(), tokens: new Map(), refreshTokens: new Map() };
  readonly revocations: RecordedRevocation[] = [];
  /** How many transactions ran (committed or not). */
  transactions = 0;

  addOrg(org: OrgLimits, willPolicy?: WillPolicy): void {
    this.state.orgs.set(org.id, org);
    if (willPolicy) this.state.willPolicies.set(org.id, willPolicy);
  }

  token(id: string): TokenRecord | undefined {
    return this.state.tokens.get(id);
  }

  allTokens(): TokenRecord[] {
    return [...this.state.tokens.values()];
  }

  refreshTokens(): RefreshTokenRecord[] {
    return [...this.state.refreshTokens.values()];
  }

  async transaction<T>(work: (tx: TokenTransaction) => Promise<T>): Promise<T> {
    this.transactions += 1;
    const draft = copy(this.state);
    const revocations: RecordedRevocation[] = [];
    const result = await work(new InMemoryTokenTransaction(draft, revocations));
    this.state = draft;
    this.revocations.push(...revocations);
    return result;
  }

  async orgTerms(orgId: string): Promise<OrgTerms | null> {
    const org = this.state.orgs.get(orgId);
    return org ? { ...org, willOnRevoke: this.state.willPolicies.get(orgId) } : null;
  }

  private termsHold(terms: OrgTerms): boolean {
    const org = this.state.orgs.get(terms.id);
    return org !== undefined && org.maxTokenTtlSeconds === terms.maxTokenTtlSeconds && this.state.willPolicies.get(terms.id) === terms.willOnRevoke;
  }

  async insert(terms: OrgTerms, token: NewToken, refresh: NewRefreshToken): Promise<boolean> {
    if (!this.termsHold(terms)) return false;
    this.state.tokens.set(token.id, { ...token, revokedAt: null });
    this.state.refreshTokens.set(refresh.id, { ...refresh, usedAt: null, revokedAt: null });
    return true;
  }

  async findRefreshGrant(tokenHash: string): Promise<RefreshGrant | null> {
    const refresh = [...this.state.refreshTokens.values()].find((r) => r.tokenHash === tokenHash);
    if (!refresh) return null;
    const token = this.state.tokens.get(refresh.tokenId);
    return { refresh: { ...refresh }, token: token ? { ...token } : null, terms: await this.orgTerms(refresh.orgId) };
  }

  async rotate(refreshTokenId: string, terms: OrgTerms, token: NewToken, refresh: NewRefreshToken): Promise<boolean> {
    const spent = this.state.refreshTokens.get(refreshTokenId);
    if (!spent || spent.usedAt !== null || spent.revokedAt !== null || spent.expiresAt.getTime() <= Date.now()) return false;
    if (!(await this.insert(terms, token, refresh))) return false;
    spent.usedAt = new Date();
    return true;
  }

  async list(filter: TokenListFilter): Promise<TokenRecord[]> {
    const now = Date.now();
    return [...this.state.tokens.values()]
      .filter((t) => t.orgId === filter.orgId && (filter.userId === undefined || t.userId === filter.userId))
      .filter((t) => {
        if (filter.status === 'active') return t.revokedAt === null && t.expiresAt.getTime() > now;
        if (filter.status === 'expired') return t.revokedAt === null && t.expiresAt.getTime() <= now;
        if (filter.status === 'revoked') return t.revokedAt !== null;
        return true;
      })
      .sort((a, b) => b.issuedAt.getTime() - a.issuedAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .filter((t) => {
        const after = filter.after;
        if (!after) return true;
        const at = t.issuedAt.getTime() - after.at.getTime();
        return at < 0 || (at === 0 && t.id < after.id);
      })
      .slice(0, filter.limit)
      .map((t) => ({ ...t }));
  }

  async findInOrg(tokenId: string, orgId: string): Promise<TokenRecord | null> {
    const token = this.state.tokens.get(tokenId);
    return token && token.orgId === orgId ? { ...token } : null;
  }
}

class InMemoryTokenTransaction implements TokenTransaction {
  constructor(
    private readonly state: State,
    private readonly revocations: RecordedRevocation[],
  ) {}

  async lockRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | null> {
    const found = [...this.state.refreshTokens.values()].find((r) => r.tokenHash === tokenHash);
    return found ? { ...found } : null;
  }

  async revokeFamily(familyId: string): Promise<RevokedToken[]> {
    const now = new Date();
    for (const refresh of this.state.refreshTokens.values()) {
      if (refresh.familyId === familyId && refresh.revokedAt === null) refresh.revokedAt = now;
    }
    const revoked: RevokedToken[] = [];
    for (const token of this.state.tokens.values()) {
      if (token.familyId === familyId && token.revokedAt === null && token.expiresAt > now) {
        token.revokedAt = now;
        revoked.push({ id: token.id, expiresAt: token.expiresAt });
      }
    }
    return revoked;
  }

  async recordRevocation(tokens: readonly RevokedToken[], reason: string): Promise<void> {
    // As RevocationService.revoke: nothing to enforce for no (or only expired) tokens.
    if (tokens.length === 0 || tokens.every((t) => t.expiresAt.getTime() <= Date.now())) return;
    this.revocations.push({ credentialIds: tokens.map((t) => t.id), reason });
  }
}
