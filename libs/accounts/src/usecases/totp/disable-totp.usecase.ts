import { Inject, Injectable } from '@nestjs/common';

import { ACCOUNTS_REPOSITORY, AccountsRepository } from '../../accounts.repository';
import { invalidPassword, invalidTotpCode, totpNotEnrolled } from '../../errors';
import { PASSWORD_MAX, verifyPassword } from '../../password';
import { TOTP_REPOSITORY, TotpRepository } from '../../totp/totp.repository';
import { CheckSecondFactorUseCase } from './check-second-factor.usecase';
import type { DisableTotpCommand } from './totp.commands';

/**
 * Turns two-factor sign-in off (a pending enrolment is just dropped): a stolen session alone cannot,
 * it takes a current code, a recovery code or the account's password.
 */
@Injectable()
export class DisableTotpUseCase {
  constructor(
    @Inject(TOTP_REPOSITORY) private readonly totp: TotpRepository,
    @Inject(ACCOUNTS_REPOSITORY) private readonly accounts: AccountsRepository,
    private readonly secondFactor: CheckSecondFactorUseCase,
  ) {}

  async execute(command: DisableTotpCommand): Promise<void> {
    const enrolment = await this.totp.find(command.accountId);
    if (!enrolment) throw totpNotEnrolled();
    if (enrolment.confirmedAt) {
      if (command.password === undefined && !command.code && !command.recoveryCode) throw invalidTotpCode();
      if (command.password !== undefined && command.code === undefined && command.recoveryCode === undefined) {
        const account = await this.accounts.findById(command.accountId);
        const ok = command.password.length <= PASSWORD_MAX && (await verifyPassword(account?.passwordHash ?? null, command.password));
        if (!ok) throw invalidPassword();
      } else {
        await this.secondFactor.execute(command, enrolment);
      }
    }
    await this.totp.remove(command.accountId);
  }
}
