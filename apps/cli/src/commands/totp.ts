import { Command } from 'commander';

import { CliError, EXIT } from '../errors';
import { context, readStdin } from './context';

interface TotpStatus {
  status: 'off' | 'pending' | 'on';
  recovery_codes_left: number;
}

/** `signet totp …`: the signed-in person's own two-factor sign-in (/v1/accounts/me/totp). */
export function registerTotp(program: Command): void {
  const totp = program.command('totp').description('two-factor sign-in (TOTP) of your account');

  totp
    .command('status')
    .description('whether TOTP is on, and how many recovery codes are left')
    .action(async (_opts: unknown, command: Command) => {
      const { session, out } = context(command);
      const status = await session.api<TotpStatus>('GET', '/v1/accounts/me/totp');
      out.result(status, () => `TOTP is ${status.status}${status.status === 'on' ? ` (${status.recovery_codes_left} recovery codes left)` : ''}`);
    });

  totp
    .command('enrol')
    .alias('enroll')
    .description('start enrolling: prints a new secret and its otpauth:// URI (shown once); then `signet totp confirm <code>`')
    .action(async (_opts: unknown, command: Command) => {
      const { session, out } = context(command);
      const started = await session.api<{ secret: string; otpauth_uri: string; status: string }>('POST', '/v1/accounts/me/totp');
      out.result(
        started,
        () =>
          `Add this account to your authenticator app (shown once):\n  secret: ${started.secret}\n  URI:    ${started.otpauth_uri}\n` +
          'Then turn it on with a code from the app: signet totp confirm <code>',
      );
    });

  totp
    .command('confirm <code>')
    .description('turn TOTP on with a first code from the app; prints ten recovery codes (shown once)')
    .action(async (code: string, _opts: unknown, command: Command) => {
      const { session, out } = context(command);
      const confirmed = await session.api<{ status: string; recovery_codes: string[] }>('POST', '/v1/accounts/me/totp/confirm', { code });
      out.result(confirmed, () => `TOTP is on. Recovery codes (each works once; store them now, they are not shown again):\n${confirmed.recovery_codes.map((c) => `  ${c}`).join('\n')}`);
    });

  totp
    .command('disable')
    .description('turn TOTP off: give a current code, a recovery code, or your password on stdin')
    .option('--code <code>', 'a current code from the app')
    .option('--recovery-code <code>', 'one of the recovery codes')
    .option('--password-stdin', 'read your password from stdin instead')
    .action(async (opts: { code?: string; recoveryCode?: string; passwordStdin?: boolean }, command: Command) => {
      const given = [opts.code !== undefined, opts.recoveryCode !== undefined, opts.passwordStdin === true].filter(Boolean).length;
      if (given !== 1) throw new CliError('give exactly one of --code, --recovery-code, --password-stdin', EXIT.usage);
      const { session, out } = context(command);
      const body = opts.passwordStdin ? { password: await readStdin() } : { code: opts.code, recovery_code: opts.recoveryCode };
      await session.api('POST', '/v1/accounts/me/totp/disable', body);
      out.result({ status: 'off' }, () => 'TOTP is off');
    });
}
