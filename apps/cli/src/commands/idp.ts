import { Command, Option } from 'commander';

import { CliError, EXIT } from '../errors';
import { collect, context, readStdin, seg } from './context';

interface Provider {
  id: string;
  name: string;
  kind: string;
  enabled: boolean;
  settings: Record<string, unknown>;
  has_secret: boolean;
  created_at: string;
}

/** `key=value` pairs as an object; a value that parses as JSON (true, 3, ["a"]) is taken as such. */
export function keyValues(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`expected key=value, got ${JSON.stringify(pair)}`, EXIT.usage);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    out[pair.slice(0, eq)] = value;
  }
  return out;
}

async function stdinJson(): Promise<Record<string, unknown>> {
  try {
    const value: unknown = JSON.parse(await readStdin());
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new CliError('--settings-stdin expects one JSON object on stdin', EXIT.usage);
}

/** idp list | create | delete: the identity providers whose tokens the org exchanges for MQTT credentials. */
export function registerIdp(program: Command): void {
  const idp = program.command('idp').description('identity providers (Supabase, Firebase, Auth0, Clerk, OIDC, JWT): list, create, delete');
  idp
    .command('list')
    .description("list the org's identity providers")
    .action(async (_opts: unknown, command: Command) => {
      const { session, out } = context(command);
      const page = await session.api<{ providers: Provider[] }>('GET', '/v1/idp-providers');
      out.table(page, ['id', 'name', 'kind', 'enabled', 'secret', 'created'], page.providers.map((p) => [p.id, p.name, p.kind, out.state(p.enabled ? 'yes' : 'no'), p.has_secret ? 'set' : '', p.created_at]));
    });
  idp
    .command('create')
    .description('add an identity provider; settings as --set key=value, secrets as JSON on stdin (--settings-stdin)')
    .addOption(new Option('--kind <kind>', 'the provider').choices(['supabase', 'firebase', 'auth0', 'clerk', 'oidc', 'jwt']).makeOptionMandatory())
    .requiredOption('--name <name>', 'a name for it')
    .option('--set <key=value>', 'a setting, e.g. project_url=https://x.supabase.co (repeatable)', collect)
    .option('--settings-stdin', 'read settings (jwt_secret, shared_secret, …) as a JSON object from stdin')
    .option('--disabled', 'create it disabled')
    .action(async (opts: { kind: string; name: string; set?: string[]; settingsStdin?: boolean; disabled?: boolean }, command: Command) => {
      const { session, out } = context(command);
      const settings = { ...(opts.settingsStdin ? await stdinJson() : {}), ...keyValues(opts.set ?? []) };
      const created = await session.api<Provider>('POST', '/v1/idp-providers', { ...settings, kind: opts.kind, name: opts.name, ...(opts.disabled ? { enabled: false } : {}) });
      out.result(created, () => `Created ${created.kind} provider ${created.id} (${created.name})`);
    });
  idp
    .command('delete <id>')
    .description('delete an identity provider (its tokens are no longer exchanged)')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { session, out } = context(command);
      await session.api('DELETE', `/v1/idp-providers/${seg(id)}`);
      out.result({ id, deleted: true }, () => `Deleted provider ${id}`);
    });
}
