import type { Command } from 'commander';

import { CliError, EXIT } from '../errors';
import { context } from './context';
import { keyValues } from './idp';

/** org get | set: the org's settings. */
export function registerOrg(program: Command): void {
  const org = program.command('org').description("the org's settings (get, set)");
  org
    .command('get')
    .description("show the org's settings")
    .action(async (_opts: unknown, command: Command) => {
      const { session, out } = context(command);
      const settings = await session.api<Record<string, unknown>>('GET', '/v1/org/settings');
      out.table(settings, ['setting', 'value'], Object.entries(settings).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
    });
  org
    .command('set <key=value...>')
    .description('change settings, e.g. `signet org set will_on_revoke=publish`; the others stay as they are')
    .action(async (pairs: string[], _opts: unknown, command: Command) => {
      const { session, out } = context(command);
      if (pairs.length === 0) throw new CliError('name at least one key=value', EXIT.usage);
      const settings = await session.api<Record<string, unknown>>('PATCH', '/v1/org/settings', keyValues(pairs));
      out.table(settings, ['setting', 'value'], Object.entries(settings).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
    });
}
