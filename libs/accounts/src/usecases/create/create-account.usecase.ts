import { Inject, Injectable } from '@nestjs/common';

import type { SessionRole } from '@signet/api-keys';

import { ACCOUNT_ROLES, Account } from '../../account';
import { ACCOUNTS_REPOSITORY, AccountsRepository } from '../../accounts.repository';
import { invalidRole, invalidUsername, roleEscalation, usernameTaken, weakPassword } from '../../errors';
import { hashPassword, PASSWORD_MAX, PASSWORD_MIN, USERNAME } from '../../password';
import { newAccountId } from '../sign-up/sign-up.usecase';
import type { CreateAccountCommand } from './create-account.command';

/** An owner (or a secret key) adds people of any role; an admin adds admins and viewers; a viewer nobody. */
@Injectable()
export class CreateAccountUseCase {
  constructor(@Inject(ACCOUNTS_REPOSITORY) private readonly accounts: AccountsRepository) {}

  async execute(command: CreateAccountCommand): Promise<Account> {
    if (!(ACCOUNT_ROLES as readonly string[]).includes(command.role)) throw invalidRole();
    const role = command.role as SessionRole;
    const callerRole = command.session?.role ?? 'owner';
    if (callerRole === 'viewer') throw roleEscalation('a viewer cannot add accounts');
    if (callerRole === 'admin' && role === 'owner') throw roleEscalation('an admin cannot add an owner');
    if (!USERNAME.test(command.username)) throw invalidUsername();
    if (command.password.length < PASSWORD_MIN || command.password.length > PASSWORD_MAX) throw weakPassword();
    const created = await this.accounts.create({
      id: newAccountId(),
      orgId: command.orgId,
      username: command.username,
      role,
      passwordHash: await hashPassword(command.password),
    });
    if (created === 'taken') throw usernameTaken();
    return created;
  }
}
