import { Command, Option } from 'commander';

import { collect, context, pages, parseInteger, query, seg } from './context';

interface Key {
  id: string;
  key?: string;
  name: string;
  type: string;
  status: string;
  masked_key: string;
  mqtt_username: string;
  scopes?: string[];
  expires_at: string | null;
  last_used_at: string | null;
}

interface Usage {
  key_id: string;
  interval: string;
  from: string;
  to: string;
  buckets: Array<{ start: string; api_calls: number; mqtt_connects: number; messages_published: number; bytes_published: number; denials: number }>;
  totals: { api_calls: number; mqtt_connects: number; messages_published: number; bytes_published: number; denials: number };
}

/** keys create | list | rotate | revoke | usage: the org's API keys. */
export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('API keys of the org (create, list, rotate, revoke, usage)');
  keys
    .command('create')
    .description('create an API key (the key is shown once)')
    .requiredOption('--name <name>', 'a name for the key')
    .addOption(new Option('--type <type>', 'secret (full access) or restricted (scopes)').choices(['secret', 'restricted']).default('secret'))
    .option('--scope <scope>', 'a scope of a restricted key (repeatable)', collect)
    .option('--expires-at <iso>', 'when the key stops working')
    .action(async (opts: { name: string; type: string; scope?: string[]; expiresAt?: string }, command: Command) => {
      const { session, out } = context(command);
      const key = await session.api<Key>('POST', '/v1/keys', { name: opts.name, type: opts.type, scopes: opts.scope, expires_at: opts.expiresAt });
      out.result(key, () => `Created ${key.type} key ${key.id} (${key.name}). Store it now, it is not shown again:\n${key.key}`);
    });
  keys
    .command('list')
    .description('list API keys')
    .option('--all', 'every page, not only the first')
    .action(async (opts: { all?: boolean }, command: Command) => {
      const { session, out } = context(command);
      const list = await pages<Key>(session, (cursor) => `/v1/keys${query({ cursor })}`, 'keys', opts.all === true);
      out.table({ keys: list }, ['id', 'name', 'type', 'status', 'key', 'last used'], list.map((k) => [k.id, k.name, k.type, out.state(k.status), k.masked_key, k.last_used_at]));
    });
  keys
    .command('rotate <id>')
    .description('a new key with the same name, type and scopes (shown once); the old one works for the grace period')
    .option('--grace <seconds>', 'how long the old key keeps working (server default when omitted)', parseInteger('--grace', 0, 30 * 86400))
    .action(async (id: string, opts: { grace?: number }, command: Command) => {
      const { session, out } = context(command);
      const rotated = await session.api<Key & { previous: Key }>('POST', `/v1/keys/${seg(id)}/rotate`, opts.grace === undefined ? {} : { grace_seconds: opts.grace });
      out.result(rotated, () => `Rotated ${id} → ${rotated.id}; the old key works until ${rotated.previous.expires_at ?? 'revoked'}. Store the new key now:\n${rotated.key}`);
    });
  keys
    .command('revoke <id>')
    .description('revoke an API key at once (its MQTT sessions are closed)')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { session, out } = context(command);
      await session.api('DELETE', `/v1/keys/${seg(id)}`);
      out.result({ id, revoked: true }, () => `Revoked key ${id}`);
    });
  keys
    .command('usage <id>')
    .description('API calls, MQTT connects, messages, bytes and denials of a key, per hour or day (UTC)')
    .addOption(new Option('--interval <interval>', 'bucket size').choices(['hour', 'day']).default('hour'))
    .option('--from <iso>', 'start (server default: a day or a month back)')
    .option('--to <iso>', 'end (default: now)')
    .action(async (id: string, opts: { interval: string; from?: string; to?: string }, command: Command) => {
      const { session, out } = context(command);
      const usage = await session.api<Usage>('GET', `/v1/keys/${seg(id)}/usage${query({ interval: opts.interval, from: opts.from, to: opts.to })}`);
      const t = usage.totals;
      out.table(
        usage,
        ['start', 'api calls', 'mqtt connects', 'messages', 'bytes', 'denials'],
        [
          ...usage.buckets.map((b) => [b.start, b.api_calls, b.mqtt_connects, b.messages_published, b.bytes_published, b.denials]),
          ['total', t.api_calls, t.mqtt_connects, t.messages_published, t.bytes_published, t.denials],
        ],
      );
    });
}
