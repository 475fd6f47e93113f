import type { Account } from '../account';
import type { SsoConnection, SsoConnectionWrite, SsoRepository } from '../sso/sso.repository';
import type { InMemoryAccountsRepository } from './in-memory-accounts.repository';

/** SsoRepository in memory over an InMemoryAccountsRepository (an account made by SSO lands there). */
export class InMemorySsoRepository implements SsoRepository {
  readonly connections = new Map<string, SsoConnection>();
  /** `<connection id> <subject>` → account id */
  readonly identities = new Map<string, string>();

  constructor(private readonly accounts: InMemoryAccountsRepository) {}

  async findByOrg(orgId: string): Promise<SsoConnection | null> {
    return [...this.connections.values()].find((c) => c.orgId === orgId) ?? null;
  }

  async findById(id: string): Promise<SsoConnection | null> {
    return this.connections.get(id) ?? null;
  }

  async listForSignIn(): Promise<Array<{ id: string; name: string }>> {
    return [...this.connections.values()].map((c) => ({ id: c.id, name: c.name }));
  }

  async save(orgId: string, c: SsoConnectionWrite): Promise<SsoConnection> {
    const existing = await this.findByOrg(orgId);
    const saved: SsoConnection = { ...c, id: existing?.id ?? c.id, orgId, createdAt: existing?.createdAt ?? new Date(), updatedAt: new Date() };
    this.connections.set(saved.id, saved);
    return saved;
  }

  async delete(orgId: string): Promise<boolean> {
    const existing = await this.findByOrg(orgId);
    return existing ? this.connections.delete(existing.id) : false;
  }

  async linkedAccountId(connectionId: string, subject: string): Promise<string | null> {
    return this.identities.get(`${connectionId} ${subject}`) ?? null;
  }

  async link(connectionId: string, subject: string, accountId: string): Promise<void> {
    this.identities.set(`${connectionId} ${subject}`, accountId);
  }

  async createLinked(connectionId: string, subject: string, account: Omit<Account, 'createdAt' | 'passwordHash'>): Promise<'created' | 'taken'> {
    const created = await this.accounts.create({ ...account, passwordHash: null });
    if (created === 'taken') return 'taken';
    await this.link(connectionId, subject, account.id);
    return 'created';
  }
}
