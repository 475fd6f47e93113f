import { Inject, Injectable } from '@nestjs/common';

import type { Account } from '../../account';
import { ACCOUNTS_REPOSITORY, AccountsRepository } from '../../accounts.repository';
import { PASSWORD_MAX, verifyPassword } from '../../password';

export interface AuthenticateCommand {
  username: string;
  password: string;
}

/** Username and password → the account, or null (unknown name and wrong password look alike). */
@Injectable()
export class AuthenticateUseCase {
  constructor(@Inject(ACCOUNTS_REPOSITORY) private readonly accounts: AccountsRepository) {}

  async execute(command: AuthenticateCommand): Promise<Account | null> {
    if (command.username.length > 64 || command.password.length > PASSWORD_MAX) return null;
    const account = await this.accounts.findByUsername(command.username);
    const ok = await verifyPassword(account?.passwordHash ?? null, command.password);
    return ok ? account : null;
  }
}
