import { randomBytes } from 'node:crypto';

import { INestApplicationContext, Inject, Injectable } from '@nestjs/common';

import { BootstrapResult, BootstrapService } from '@signet/api-keys';

import { LOGGER } from '@signet/observability';
import type { Logger } from '@signet/observability';

import { ACCOUNTS_REPOSITORY, AccountsRepository } from '../../accounts.repository';
import { hashSignupCode } from '../sign-up/sign-up.usecase';

/**
 * The first account of an org comes from a one-time sign-up code, made beside the bootstrap API key
 * and shown once with it; only its hash is stored, and using it deletes it.
 */
@Injectable()
export class SignupCodeService {
  constructor(
    @Inject(ACCOUNTS_REPOSITORY) private readonly accounts: AccountsRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** A fresh code for an org without accounts (replacing an unused one), or null when it has accounts. */
  async issueFor(orgId: string): Promise<string | null> {
    if ((await this.accounts.countInOrg(orgId)) > 0) return null;
    const code = `su_${randomBytes(18).toString('base64url')}`;
    await this.accounts.putSignupCode(orgId, hashSignupCode(code));
    this.logger.info({ orgId }, 'sign-up code for the first account created');
    return code;
  }
}

/** Banner lines beside the bootstrap key (none without a code). */
export function signupCodeBanner(code: string | null): string[] {
  if (!code) return [];
  return ['Sign-up code for the first account (shown once; enter it on the sign-in page of `signet login`):', code, ''];
}

/**
 * The first start's bootstrap (org and API key, from api-keys), and the first account's sign-up code
 * made with it; the code goes to `onCode` for the banner.
 */
export async function bootstrapWithSignupCode(
  app: INestApplicationContext,
  onCode: (code: string | null) => void,
): Promise<(BootstrapResult & { signupCodeIssued: boolean }) | null> {
  const bootstrap = await app.get(BootstrapService).ensureBootstrap();
  if (!bootstrap) return null;
  const code = await app.get(SignupCodeService).issueFor(bootstrap.orgId);
  onCode(code);
  return { ...bootstrap, signupCodeIssued: code !== null };
}
