import { Inject, Injectable } from '@nestjs/common';

import type { Account } from '../../account';
import { ACCOUNTS_REPOSITORY, AccountsRepository } from '../../accounts.repository';

/** More people than any org has: the list is one page. */
export const MAX_ACCOUNTS_LISTED = 500;

/** The people of an org, for every role (a viewer reads the list too). */
@Injectable()
export class ListAccountsUseCase {
  constructor(@Inject(ACCOUNTS_REPOSITORY) private readonly accounts: AccountsRepository) {}

  execute(command: { orgId: string }): Promise<Account[]> {
    return this.accounts.listInOrg(command.orgId, MAX_ACCOUNTS_LISTED);
  }
}
