import { Command, Option } from 'commander';

import type { Me } from './auth';
import { context, readStdin } from './context';

/** accounts create: the people of the org who sign in. */
export function registerAccounts(program: Command): void {
  const accounts = program.command('accounts').description('people of the org who sign in');
  accounts
    .command('create')
    .description('add a person (owner: any role; admin: admin or viewer)')
    .requiredOption('--username <name>', 'their username')
    .addOption(new Option('--role <role>', 'owner, admin or viewer').choices(['owner', 'admin', 'viewer']).default('viewer'))
    .requiredOption('--password-stdin', 'read their first password from stdin (never from an argument)')
    .action(async (opts: { username: string; role: string }, command: Command) => {
      const { session, out } = context(command);
      const password = await readStdin();
      const account = await session.api<Me>('POST', '/v1/accounts', { username: opts.username, role: opts.role, password });
      out.result(account, () => `Added ${account.username} (${account.role}) to ${account.org_id}`);
    });
}
