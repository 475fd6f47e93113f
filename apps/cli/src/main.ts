import { Command, CommanderError, Option } from 'commander';

import { canOpenBrowser, openBrowser } from './browser';
import { registerAudit } from './commands/audit';
import { CliError, EXIT } from './errors';
import { pollDeviceLogin, revoke, startDeviceLogin, startLoopbackLogin, TokenSet } from './oauth';
import { Output } from './output';
import { GlobalOptions, Session } from './session';

interface Me {
  account_id: string;
  org_id: string;
  username: string;
  role: string;
  expires_at: string;
}

interface Key {
  id: string;
  key?: string;
  name: string;
  type: string;
  status: string;
  masked_key: string;
  mqtt_username: string;
  expires_at: string | null;
  last_used_at: string | null;
}

interface Credentials {
  token_id: string;
  mqtt_credentials: { username: string; password: string };
  expires_at: string;
  refresh_token: string;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function context(command: Command): { session: Session; out: Output } {
  const options = command.optsWithGlobals<GlobalOptions>();
  return { session: new Session(options), out: new Output(options.json === true) };
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new CliError(`--callback-port must be 1..65535, got ${value}`, EXIT.usage);
  return port;
}

async function signIn(session: Session, out: Output, opts: { device?: boolean; callbackPort?: number }): Promise<{ server: string; tokens: TokenSet }> {
  const server = await session.server();
  const device = opts.device === true || (opts.callbackPort === undefined && !canOpenBrowser());
  if (device) {
    const authorization = await startDeviceLogin(server);
    out.info(`To sign in, open ${authorization.verification_uri} and enter the code ${authorization.user_code}`);
    if (authorization.verification_uri_complete) out.info(`(or open ${authorization.verification_uri_complete})`);
    out.info('Waiting for the sign-in…');
    return { server, tokens: await pollDeviceLogin(server, authorization) };
  }
  const login = await startLoopbackLogin(server, opts.callbackPort);
  out.info(`Opening the browser to sign in. If it does not open, visit:\n  ${login.url}`);
  if (!(await openBrowser(login.url))) out.warn('no browser could be opened; open the URL above yourself');
  out.info('Waiting for the browser…');
  return { server, tokens: await login.tokens };
}

function addSessionCommands(program: Command): void {
  program
    .command('login')
    .description('sign in through the browser (or with a device code) and store the session')
    .option('--device', 'use a device code to enter in a browser elsewhere (chosen by itself over SSH or without a display)')
    .addOption(new Option('--callback-port <port>', 'fixed loopback port for the redirect (for `ssh -L`)').argParser(parsePort))
    .action(async (opts: { device?: boolean; callbackPort?: number }, command: Command) => {
      const { session, out } = context(command);
      const { server, tokens } = await signIn(session, out, opts);
      const profile = { server, access_token: tokens.access_token, refresh_token: tokens.refresh_token, expires_at: Date.now() + tokens.expires_in * 1000 };
      await session.store.save(session.profileName, profile);
      const me = await session.api<Me>('GET', '/v1/accounts/me');
      const account = { account_id: me.account_id, username: me.username, org_id: me.org_id, role: me.role };
      await session.store.save(session.profileName, { ...((await session.store.profile(session.profileName)) ?? profile), account });
      out.result({ profile: session.profileName, server, ...me }, () => `Signed in to ${server} as ${me.username} (${me.role} of ${me.org_id}); profile ${session.profileName}`);
    });

  program
    .command('logout')
    .description('revoke the session on the server, then forget it here')
    .action(async (_opts: unknown, command: Command) => {
      const { session, out } = context(command);
      const profile = await session.store.profile(session.profileName);
      if (!profile) {
        out.result({ profile: session.profileName, signed_out: false }, () => `Not signed in (profile ${session.profileName})`);
        return;
      }
      let revoked = true;
      try {
        if (profile.refresh_token) await revoke(profile.server, profile.refresh_token, 'refresh_token');
        await revoke(profile.server, profile.access_token, 'access_token');
      } catch (err) {
        revoked = false;
        out.warn(`${(err as Error).message}; the local session is deleted anyway`);
      } finally {
        await session.store.remove(session.profileName);
      }
      out.result({ profile: session.profileName, signed_out: true, revoked }, () => `Signed out of ${profile.server} (profile ${session.profileName})`);
      if (!revoked) process.exitCode = EXIT.failure;
    });

  program
    .command('whoami')
    .description('who this CLI acts as: profile, server, account, org, role, expiry')
    .action(async (_opts: unknown, command: Command) => {
      const { session, out } = context(command);
      const server = await session.server();
      if (session.envToken) {
        // An API key has no account: whoami still says SIGNET_TOKEN is in use.
        const me = await session.api<Me>('GET', '/v1/accounts/me').catch(() => null);
        out.result({ source: 'SIGNET_TOKEN', server, ...(me ?? {}) }, () => `Using SIGNET_TOKEN against ${server}${me ? ` as ${me.username} (${me.role} of ${me.org_id})` : ' (an API key)'}`);
        return;
      }
      const me = await session.api<Me>('GET', '/v1/accounts/me');
      const value = { source: 'profile', profile: session.profileName, server, ...me };
      out.table(value, ['profile', 'server', 'account', 'org', 'role', 'expires'], [[session.profileName, server, me.username, me.org_id, me.role, me.expires_at]]);
    });
}

function addKeyCommands(program: Command): void {
  const keys = program.command('keys').description('API keys of the org');
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
    .action(async (_opts: unknown, command: Command) => {
      const { session, out } = context(command);
      const page = await session.api<{ keys: Key[]; next_cursor: string | null }>('GET', '/v1/keys');
      out.table(page, ['id', 'name', 'type', 'status', 'key', 'last used'], page.keys.map((k) => [k.id, k.name, k.type, k.status, k.masked_key, k.last_used_at]));
    });
  keys
    .command('revoke <id>')
    .description('revoke an API key (its MQTT sessions are closed)')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { session, out } = context(command);
      await session.api('DELETE', `/v1/keys/${encodeURIComponent(id)}`);
      out.result({ id, revoked: true }, () => `Revoked key ${id}`);
    });
}

function addTokenCommands(program: Command): void {
  const tokens = program.command('tokens').description("MQTT credentials for the org's users");
  tokens
    .command('create')
    .description('issue MQTT credentials for a user (the password is shown once)')
    .requiredOption('--user <id>', 'the user id')
    .option('--ttl <seconds>', 'lifetime in seconds', (v) => Number(v))
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
    .command('revoke <token_id>')
    .description('revoke a token (its MQTT sessions are closed)')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { session, out } = context(command);
      await session.api('DELETE', `/v1/tokens/${encodeURIComponent(id)}`);
      out.result({ token_id: id, revoked: true }, () => `Revoked token ${id}`);
    });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function addAccountCommands(program: Command): void {
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

export function buildProgram(): Command {
  const program = new Command('signet')
    .description('Sign in to a Signet server and manage it from the terminal (server commands: signet start, migrate, …)')
    .option('--profile <name>', 'the stored session to use (default: $SIGNET_PROFILE or "default")')
    .option('--server <url>', "the Signet HTTP API (default: $SIGNET_SERVER, the profile's, or http://127.0.0.1:8080)")
    .option('--json', 'print results as JSON')
    .showHelpAfterError()
    .exitOverride();
  addSessionCommands(program);
  addKeyCommands(program);
  addTokenCommands(program);
  addAccountCommands(program);
  registerAudit(program);
  return program;
}

/** Runs the CLI; resolves with the exit code (never throws, never prints a stack trace). */
export async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    // --help is an "error" with exit code 0; usage errors were already printed by commander.
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    const cliError = err instanceof CliError ? err : new CliError(err instanceof Error ? err.message : String(err));
    if (json) process.stdout.write(`${JSON.stringify({ error: cliError.message, exit_code: cliError.exitCode, details: cliError.details }, null, 2)}\n`);
    new Output(json).error(cliError.message);
    return cliError.exitCode;
  }
}

if (require.main === module) {
  void run(process.argv.slice(2)).then((code) => process.exit(code));
}
