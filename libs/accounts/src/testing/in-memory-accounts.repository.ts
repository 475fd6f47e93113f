import type { Account } from '../account';
import type { AccountsRepository } from '../accounts.repository';

/** AccountsRepository in memory, for use-case specs. */
export class InMemoryAccountsRepository implements AccountsRepository {
  readonly accounts = new Map<string, Account>();
  /** code hash → org id */
  readonly codes = new Map<string, string>();

  async findById(id: string): Promise<Account | null> {
    return this.accounts.get(id) ?? null;
  }

  async findByUsername(username: string): Promise<Account | null> {
    return [...this.accounts.values()].find((a) => a.username === username) ?? null;
  }

  async countInOrg(orgId: string): Promise<number> {
    return [...this.accounts.values()].filter((a) => a.orgId === orgId).length;
  }

  async listInOrg(orgId: string, limit: number): Promise<Account[]> {
    return [...this.accounts.values()].filter((a) => a.orgId === orgId).slice(0, limit);
  }

  async putSignupCode(orgId: string, codeHash: string): Promise<void> {
    for (const [hash, org] of this.codes) if (org === orgId) this.codes.delete(hash);
    this.codes.set(codeHash, orgId);
  }

  async create(account: Omit<Account, 'createdAt'>): Promise<Account | 'taken'> {
    if (await this.findByUsername(account.username)) return 'taken';
    const created: Account = { ...account, createdAt: new Date() };
    this.accounts.set(created.id, created);
    return created;
  }

  async signUpWithCode(codeHash: string, account: Omit<Account, 'orgId' | 'role' | 'createdAt'>): Promise<Account | 'taken' | null> {
    const orgId = this.codes.get(codeHash);
    if (orgId === undefined) return null;
    // As the transaction: a taken username leaves the code unused.
    if (await this.findByUsername(account.username)) return 'taken';
    this.codes.delete(codeHash);
    const created: Account = { ...account, orgId, role: 'owner', createdAt: new Date() };
    this.accounts.set(created.id, created);
    return created;
  }
}
