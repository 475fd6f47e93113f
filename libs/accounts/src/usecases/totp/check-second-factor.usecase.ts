import { Inject, Injectable } from '@nestjs/common';

import { invalidTotpCode, totpNotEnrolled, totpThrottled } from '../../errors';
import { hashRecoveryCode, totpStep } from '../../totp/totp-codes';
import { TOTP_REPOSITORY, TotpEnrolment, TotpRepository } from '../../totp/totp.repository';
import type { SecondFactorCommand } from './totp.commands';

/** Five wrong codes in a row lock codes for five minutes: 10^6 codes cannot be walked through. */
export const TOTP_MAX_FAILURES = 5;
export const TOTP_LOCK_MS = 5 * 60_000;

/**
 * Checks the second factor of an account with confirmed TOTP: a code of a time step not used before
 * (no replay within its window), or an unused recovery code (spent by the check). Wrong codes are
 * counted and throttled; a locked account is refused without looking at the code.
 */
@Injectable()
export class CheckSecondFactorUseCase {
  constructor(@Inject(TOTP_REPOSITORY) private readonly totp: TotpRepository) {}

  /** The confirmed enrolment, or null when the account has no second factor. */
  async enrolment(accountId: string): Promise<TotpEnrolment | null> {
    const enrolment = await this.totp.find(accountId);
    return enrolment?.confirmedAt ? enrolment : null;
  }

  async execute(command: SecondFactorCommand, known?: TotpEnrolment): Promise<void> {
    const enrolment = known ?? (await this.enrolment(command.accountId));
    if (!enrolment) throw totpNotEnrolled();
    refuseLocked(enrolment);
    const code = (command.code ?? '').trim();
    const recovery = (command.recoveryCode ?? '').trim();
    let ok = false;
    if (code !== '') {
      const step = totpStep(enrolment.secret, code);
      ok = step !== null && (await this.totp.useStep(command.accountId, step));
    } else if (recovery !== '') {
      ok = await this.totp.useRecoveryCode(command.accountId, hashRecoveryCode(recovery));
    }
    if (!ok) await this.refuse(command.accountId);
  }

  /** Counts a wrong code and refuses it (429 once the account is locked). */
  async refuse(accountId: string): Promise<never> {
    const lockedUntil = await this.totp.recordFailure(accountId, TOTP_MAX_FAILURES, TOTP_LOCK_MS);
    throw lockedUntil === null ? invalidTotpCode() : totpThrottled(lockedUntil - Date.now());
  }
}

export function refuseLocked(enrolment: TotpEnrolment): void {
  if (enrolment.lockedUntil !== null) throw totpThrottled(enrolment.lockedUntil - Date.now());
}
