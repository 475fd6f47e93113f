import { Command, Option } from 'commander';

import { collect, context, pages, parseInteger, query, seg } from './context';

export interface Credentials {
  token_id: string;
  mqtt_credentials: { username: string; password: string };
  expires_at: string;
  refresh_token: string;
}

export interface TokenMetadata {
  token_id: string;
  user_id: string;
  client_id: string | null;
  permissions: { publish: string[]; subscribe: string[] };
  issued_at: string;
  expires_at: string;
  revoked_at: string | null;
  status: string;
}

/** tokens create | list | revoke | revoke-user: MQTT credentials of the org's users. */
export function registerTokens(program: Command): void {
  const tokens = program.command('tokens').description("MQTT credentials for the org's users (create, list, revoke, revoke-user)");
  tokens
    .command('create')
    .description('issue MQTT credentials for a user (the password is shown once)')
    .requiredOption('--user <id>', 'the user id')
    .option('--ttl <seconds>', 'lifetime in seconds', parseInteger('--ttl', 1, 366 * 86400))
    .option('--client-id <id>', 'bind the credentials to one MQTT client id')
    .option('--publish <filter>', 'a topic filter the user may publish to (repeatable)', collect)
    .option('--subscribe <filter>', 'a topic filter the user may subscribe to (repeatable)', collect)
    .action(async (opts: { user: string; ttl?: number; clientId?: string; publish?: string[]; subscribe?: string[] }, command: Command) => {
      const { session, out } = context(command);
      const permissions = opts.publish || opts.subscribe ? { publish: opts.publish, subscribe: opts.subscribe } : undefined;
      const c = await session.api<Credentials>('POST', '/v1/tokens', { user_id: opts.user, ttl_seconds: opts.ttl, client_id: opts.clientId, permissions });
      out.result(c, () => `Token ${c.token_id}, until ${c.expires_at}\n  MQTT username: ${c.mqtt_credentials.username}\n  MQTT password: ${c.mqtt_credentials.password}`);
    });
  tokens
    .command('list')
    .description('list tokens (metadata only, never a password)')
    .option('--user <id>', 'only the tokens of this user')
    .addOption(new Option('--status <status>', 'only tokens in this state').choices(['active', 'expired', 'revoked']))
    .option('--all', 'every page, not only the first')
    .action(async (opts: { user?: string; status?: string; all?: boolean }, command: Command) => {
      const { session, out } = context(command);
      const list = await pages<TokenMetadata>(session, (cursor) => `/v1/tokens${query({ user_id: opts.user, status: opts.status, cursor })}`, 'tokens', opts.all === true);
      out.table(
        { tokens: list },
        ['token', 'user', 'client id', 'status', 'expires', 'publish', 'subscribe'],
        list.map((t) => [t.token_id, t.user_id, t.client_id, out.state(t.status), t.expires_at, t.permissions.publish.join(' '), t.permissions.subscribe.join(' ')]),
      );
    });
  tokens
    .command('revoke <token_id>')
    .description('revoke a token (its MQTT sessions are closed)')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { session, out } = context(command);
      await session.api('DELETE', `/v1/tokens/${seg(id)}`);
      out.result({ token_id: id, revoked: true }, () => `Revoked token ${id}`);
    });
  tokens
    .command('revoke-user <user_id>')
    .description("revoke every live token of a user, and their refresh tokens (their MQTT sessions are closed)")
    .action(async (userId: string, _opts: unknown, command: Command) => {
      const { session, out } = context(command);
      const result = await session.api<{ revoked: number }>('POST', `/v1/users/${seg(userId)}/revoke`);
      out.result({ user_id: userId, ...result }, () => `Revoked ${result.revoked} token(s) of ${userId}`);
    });
}
