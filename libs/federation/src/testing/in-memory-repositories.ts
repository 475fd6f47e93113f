import type { IssuedCredentials, IssueRequest } from '@signet/tokens';

import type { AppliedIdpEvent, IdpEventRepository, IdpEventToApply } from '../events/idp-events.repository';
import type { IdpProviderRepository, IdpProviderWrite, StoredIdpProvider } from '../idp-providers.repository';
import type { IssuingOrg, OrgTokenRequest, TokenIssuance } from '../token-issuance.repository';

/** IdpProviderRepository in memory, for unit specs of the use cases. */
export class InMemoryIdpProviderRepository implements IdpProviderRepository {
  readonly rows = new Map<string, StoredIdpProvider>();
  private clock = Date.UTC(2026, 0, 1);

  async insert(provider: IdpProviderWrite): Promise<StoredIdpProvider> {
    const now = this.tick();
    const row = { ...provider, createdAt: now, updatedAt: now };
    this.rows.set(row.id, row);
    return row;
  }

  async listInOrg(orgId: string): Promise<StoredIdpProvider[]> {
    return [...this.rows.values()].filter((r) => r.orgId === orgId).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));
  }

  async findInOrg(orgId: string, id: string): Promise<StoredIdpProvider | null> {
    const row = this.rows.get(id);
    return row && row.orgId === orgId ? row : null;
  }

  async findById(id: string): Promise<StoredIdpProvider | null> {
    return this.rows.get(id) ?? null;
  }

  async update(provider: IdpProviderWrite): Promise<StoredIdpProvider> {
    const current = this.rows.get(provider.id);
    if (!current) throw new Error(`no provider ${provider.id}`);
    const row = { ...provider, createdAt: current.createdAt, updatedAt: this.tick() };
    this.rows.set(row.id, row);
    return row;
  }

  async deleteInOrg(orgId: string, id: string): Promise<void> {
    if (this.rows.get(id)?.orgId === orgId) this.rows.delete(id);
  }

  /** Distinct, increasing timestamps, as the database's clock would give. */
  private tick(): Date {
    this.clock += 1000;
    return new Date(this.clock);
  }
}

/** TokenIssuance in memory: the orgs it knows, and every request it was asked to issue. */
export class InMemoryTokenIssuance implements TokenIssuance {
  readonly orgs = new Map<string, IssuingOrg>();
  readonly issued: IssueRequest[] = [];

  async issueInOrg(orgId: string, orgGone: () => Error, decide: (org: IssuingOrg) => OrgTokenRequest): Promise<IssuedCredentials> {
    const org = this.orgs.get(orgId);
    if (!org) throw orgGone();
    const request = { orgId: org.id, ...decide(org) };
    this.issued.push(request);
    const expiresAt = new Date(Date.now() + request.ttlSeconds * 1000);
    return {
      tokenId: `tok_${this.issued.length}`,
      username: `${request.userId}@${request.orgId}`,
      password: 'tkn_test',
      expiresAt,
      refreshToken: 'rt_test',
      refreshExpiresAt: expiresAt,
    };
  }
}

/** IdpEventRepository in memory: sealed events secrets, and the events applied (first result per event id, as the table keeps). */
export class InMemoryIdpEventRepository implements IdpEventRepository {
  readonly secrets = new Map<string, string>();
  readonly applied = new Map<string, { event: IdpEventToApply; revokedTokens: number }>();
  /** How many tokens the next applied event revokes. */
  nextRevokedTokens = 1;

  async eventsSecret(providerId: string): Promise<string | null> {
    return this.secrets.get(providerId) ?? null;
  }

  async setEventsSecret(providerId: string, ciphertext: string): Promise<void> {
    this.secrets.set(providerId, ciphertext);
  }

  async apply(event: IdpEventToApply): Promise<AppliedIdpEvent | 'reused'> {
    const key = `${event.providerId} ${event.eventId}`;
    const seen = this.applied.get(key);
    if (seen) return seen.event.digest === event.digest ? { revokedTokens: seen.revokedTokens, replayed: true } : 'reused';
    const revokedTokens = event.action.kind === 'ignored' ? 0 : this.nextRevokedTokens;
    this.applied.set(key, { event, revokedTokens });
    return { revokedTokens, replayed: false };
  }
}
