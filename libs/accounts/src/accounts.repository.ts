import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import { AccountEntity, AccountSignupCodeEntity, DATA_SOURCE, sqlState } from '@signet/persistence';

import type { Account } from './account';

export interface AccountsRepository {
  findById(id: string): Promise<Account | null>;
  findByUsername(username: string): Promise<Account | null>;
  countInOrg(orgId: string): Promise<number>;
  /** The org's accounts, oldest first (an org has a handful of people: at most `limit`). */
  listInOrg(orgId: string, limit: number): Promise<Account[]>;
  /** Replaces the org's sign-up code (one per org). */
  putSignupCode(orgId: string, codeHash: string): Promise<void>;
  /**
   * In one transaction: consumes the code and creates the account as `owner` of the code's org.
   * Null when the code is unknown (or was consumed concurrently); 'taken' when the username is.
   */
  signUpWithCode(codeHash: string, account: Omit<Account, 'orgId' | 'role' | 'createdAt'>): Promise<Account | 'taken' | null>;
  /** A new account; 'taken' when the username is. */
  create(account: Omit<Account, 'createdAt'>): Promise<Account | 'taken'>;
}

export const ACCOUNTS_REPOSITORY = Symbol('ACCOUNTS_REPOSITORY');

const UNIQUE_VIOLATION = '23505';

function toAccount(e: AccountEntity): Account {
  return { id: e.id, orgId: e.orgId, username: e.username, role: e.role, passwordHash: e.passwordHash, createdAt: e.createdAt };
}

@Injectable()
export class TypeOrmAccountsRepository implements AccountsRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async findById(id: string): Promise<Account | null> {
    const e = await this.dataSource.getRepository(AccountEntity).findOneBy({ id });
    return e ? toAccount(e) : null;
  }

  async findByUsername(username: string): Promise<Account | null> {
    const e = await this.dataSource.getRepository(AccountEntity).findOneBy({ username });
    return e ? toAccount(e) : null;
  }

  countInOrg(orgId: string): Promise<number> {
    return this.dataSource.getRepository(AccountEntity).countBy({ orgId });
  }

  async listInOrg(orgId: string, limit: number): Promise<Account[]> {
    const rows = await this.dataSource.getRepository(AccountEntity).find({ where: { orgId }, order: { createdAt: 'ASC', id: 'ASC' }, take: limit });
    return rows.map(toAccount);
  }

  async putSignupCode(orgId: string, codeHash: string): Promise<void> {
    await this.dataSource.getRepository(AccountSignupCodeEntity).upsert({ orgId, codeHash }, ['orgId']);
  }

  async create(account: Omit<Account, 'createdAt'>): Promise<Account | 'taken'> {
    try {
      return toAccount(await this.dataSource.getRepository(AccountEntity).save({ ...account }));
    } catch (err) {
      if (sqlState(err) === UNIQUE_VIOLATION) return 'taken';
      throw err;
    }
  }

  async signUpWithCode(codeHash: string, account: Omit<Account, 'orgId' | 'role' | 'createdAt'>): Promise<Account | 'taken' | null> {
    try {
      return await this.dataSource.transaction(async (em) => {
        // DELETE … RETURNING: two sign-ups with one code cannot both see it.
        const deleted = await em
          .createQueryBuilder()
          .delete()
          .from(AccountSignupCodeEntity)
          .where('code_hash = :codeHash', { codeHash })
          .returning('org_id')
          .execute();
        const rows = deleted.raw as Array<{ org_id: string }>;
        if (rows.length === 0) return null;
        const saved = await em.getRepository(AccountEntity).save({ ...account, orgId: rows[0].org_id, role: 'owner' as const });
        return toAccount(saved);
      });
    } catch (err) {
      if (sqlState(err) === UNIQUE_VIOLATION) return 'taken';
      throw err;
    }
  }
}
