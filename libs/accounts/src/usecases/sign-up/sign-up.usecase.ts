import { createHash, randomBytes } from 'node:crypto';

import { Inject, Injectable, Optional } from '@nestjs/common';

import { AUDIT_RECORDER, type AuditRecorder } from '@signet/audit';

import type { Account } from '../../account';
import { ACCOUNTS_REPOSITORY, AccountsRepository } from '../../accounts.repository';
import { invalidSignupCode, invalidUsername, usernameTaken, weakPassword } from '../../errors';
import { hashPassword, PASSWORD_MAX, PASSWORD_MIN, USERNAME } from '../../password';
import type { SignUpCommand } from './sign-up.command';

export const hashSignupCode = (code: string): string => createHash('sha256').update(code.trim()).digest('hex');
export const newAccountId = (): string => `acc_${randomBytes(12).toString('base64url')}`;

/** Creates the org's first account (owner) from the one-time sign-up code printed at first start. */
@Injectable()
export class SignUpUseCase {
  constructor(
    @Inject(ACCOUNTS_REPOSITORY) private readonly accounts: AccountsRepository,
    @Optional() @Inject(AUDIT_RECORDER) private readonly audit?: AuditRecorder,
  ) {}

  async execute(command: SignUpCommand): Promise<Account> {
    if (!USERNAME.test(command.username)) throw invalidUsername();
    if (command.password.length < PASSWORD_MIN || command.password.length > PASSWORD_MAX) throw weakPassword();
    const passwordHash = await hashPassword(command.password);
    const result = await this.accounts.signUpWithCode(hashSignupCode(command.signupCode), {
      id: newAccountId(),
      username: command.username,
      passwordHash,
    });
    if (result === null) throw invalidSignupCode();
    if (result === 'taken') throw usernameTaken();
    // Nobody is signed in yet: the sign-up code is the authority, so the API hook has no caller to record.
    this.audit?.record({ type: 'admin', orgId: result.orgId, actor: { kind: 'account', id: result.id }, action: 'accounts.sign_up', target: result.id, outcome: 'success', details: { role: result.role } });
    return result;
  }
}
