import { Inject, Injectable } from '@nestjs/common';

import { totpAlreadyEnabled } from '../../errors';
import { newTotpSecret, otpauthUri } from '../../totp/totp-codes';
import { TOTP_REPOSITORY, TotpRepository } from '../../totp/totp.repository';
import type { EnrolTotpCommand } from './totp.commands';

export interface TotpEnrolmentStarted {
  secret: string;
  otpauthUri: string;
}

/**
 * A new TOTP secret for the account, pending until a first code confirms it (so a mistyped or lost
 * secret never locks anyone out). The secret is answered once; at rest it is sealed with the master key.
 */
@Injectable()
export class EnrolTotpUseCase {
  constructor(@Inject(TOTP_REPOSITORY) private readonly totp: TotpRepository) {}

  async execute(command: EnrolTotpCommand): Promise<TotpEnrolmentStarted> {
    const secret = newTotpSecret();
    if (!(await this.totp.putPending(command.accountId, secret))) throw totpAlreadyEnabled();
    return { secret, otpauthUri: otpauthUri(command.username, secret) };
  }
}
