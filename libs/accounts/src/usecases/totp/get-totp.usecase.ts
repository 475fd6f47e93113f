import { Inject, Injectable } from '@nestjs/common';

import { TOTP_REPOSITORY, TotpRepository } from '../../totp/totp.repository';
import type { TotpAccountCommand } from './totp.commands';

export type TotpStatus = 'off' | 'pending' | 'on';

/** Whether two-factor sign-in is on, and how many recovery codes are left (never the secret). */
@Injectable()
export class GetTotpUseCase {
  constructor(@Inject(TOTP_REPOSITORY) private readonly totp: TotpRepository) {}

  async execute(command: TotpAccountCommand): Promise<{ status: TotpStatus; recoveryCodesLeft: number }> {
    const enrolment = await this.totp.find(command.accountId);
    if (!enrolment) return { status: 'off', recoveryCodesLeft: 0 };
    if (!enrolment.confirmedAt) return { status: 'pending', recoveryCodesLeft: 0 };
    return { status: 'on', recoveryCodesLeft: await this.totp.countRecoveryCodes(command.accountId) };
  }
}
