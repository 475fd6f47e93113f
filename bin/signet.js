#!/usr/bin/env node
'use strict';
/**
 * `signet [command] [args]`: the operator's command (package.json "bin"). Server commands run the built
 * process in this very Node.js process, so SIGTERM / SIGINT from a supervisor reach the server directly;
 * client commands (login, keys, …) run the CLI of apps/cli (docs/cli.md). Build first (`npm run build`).
 */
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const COMMANDS = {
  start: ['apps/signet/src/main.js', 'the all-in-one: HTTP API, MQTT edge, gRPC'],
  'token-service': ['apps/token-service/src/main.js', 'the token service alone'],
  'apikey-service': ['apps/apikey-service/src/main.js', 'the API-key service alone'],
  'idp-federation': ['apps/idp-federation/src/main.js', 'the IdP federation service alone'],
  'mqtt-edge': ['apps/mqtt-edge/src/main.js', 'the MQTT edge alone'],
  'auth-webhooks': ['apps/auth-webhooks/src/main.js', 'the auth-webhook service alone'],
  'directory-sync': ['apps/directory-sync/src/main.js', 'the directory-sync service alone (SCIM, LDAP)'],
  migrate: ['libs/shared/persistence/src/cli/migrate.js', '[run|revert|show] the schema migrations'],
};

const CLIENT_COMMANDS = {
  login: 'sign in (browser, or --device) and store the session',
  logout: 'revoke the session, then forget it',
  whoami: 'profile, server, account, org, role, expiry',
  keys: 'create | list | revoke API keys',
  tokens: 'create | revoke MQTT credentials',
  accounts: 'create: add a person (owner, admin, viewer)',
  audit: 'list | export the audit log (owners, admins)',
};
const CLI_ENTRY = 'apps/cli/src/main.js';

function built(relative) {
  const entry = join(__dirname, '..', 'dist', relative);
  if (!existsSync(entry)) {
    process.stderr.write(`signet: ${entry} is missing; run \`npm run build\` first\n`);
    process.exit(1);
  }
  return entry;
}

const args = process.argv.slice(2);
// Global client options may come first: `signet --profile ci keys list`.
const first = args.find((a, i) => !a.startsWith('-') && !['--profile', '--server'].includes(args[i - 1]));
if (first !== undefined && Object.hasOwn(CLIENT_COMMANDS, first)) {
  require(built(CLI_ENTRY))
    .run(args)
    .then((code) => process.exit(code));
} else {
  runServerCommand();
}

function runServerCommand() {
  const [command = 'start', ...rest] = args;
  const asked = ['help', '--help', '-h'].includes(command);
  if (asked || !Object.hasOwn(COMMANDS, command)) {
    const lines = Object.entries(COMMANDS).map(([name, [, what]]) => `  ${name.padEnd(16)}${what}`);
    const client = Object.entries(CLIENT_COMMANDS).map(([name, what]) => `  ${name.padEnd(16)}${what}`);
    (asked ? process.stdout : process.stderr).write(
      `usage: signet [command]   (default: start)\n${lines.join('\n')}\n\nclient (signet <command> --help):\n${client.join('\n')}\n`,
    );
    process.exit(asked ? 0 : 2);
  }
  const entry = built(COMMANDS[command][0]);
  // The entry reads its own arguments (migrate's subcommand) from process.argv.slice(2).
  process.argv = [process.argv[0], entry, ...rest];
  require(entry);
}
