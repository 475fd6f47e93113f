import { Inject, Injectable } from '@nestjs/common';

import { totpAlreadyEnabled, totpNotEnrolled } from '../../errors';
import { hashRecoveryCode, newRecoveryCodes, totpStep } from '../../totp/totp-codes';
import { TOTP_REPOSITORY, TotpRepository } from '../../totp/totp.repository';
import { CheckSecondFactorUseCase, refuseLocked } from './check-second-factor.usecase';
import type { ConfirmTotpCommand } from './totp.commands';

/** The first valid code turns a pending enrolment on; answers the recovery codes, shown once. */
@Injectable()
export class ConfirmTotpUseCase {
  constructor(
    @Inject(TOTP_REPOSITORY) private readonly totp: TotpRepository,
    private readonly secondFactor: CheckSecondFactorUseCase,
  ) {}

  async execute(command: ConfirmTotpCommand): Promise<{ recoveryCodes: string[] }> {
    const enrolment = await this.totp.find(command.accountId);
    if (!enrolment) throw totpNotEnrolled('start with POST /v1/accounts/me/totp');
    if (enrolment.confirmedAt) throw totpAlreadyEnabled();
    refuseLocked(enrolment);
    const step = totpStep(enrolment.secret, command.code.trim());
    if (step === null) return this.secondFactor.refuse(command.accountId);
    const recoveryCodes = newRecoveryCodes();
    if (!(await this.totp.confirm(command.accountId, step, recoveryCodes.map(hashRecoveryCode)))) throw totpAlreadyEnabled();
    return { recoveryCodes };
  }
}
