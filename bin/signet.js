#!/usr/bin/env node
'use strict';
/**
 * `signet [command] [args]`: the operator's command (package.json "bin"). It runs the built process in
 * this very Node.js process, so SIGTERM / SIGINT from a supervisor reach the server directly. Build first
 * (`npm run build`).
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

const [command = 'start', ...rest] = process.argv.slice(2);
const asked = ['help', '--help', '-h'].includes(command);
if (asked || !Object.hasOwn(COMMANDS, command)) {
  const lines = Object.entries(COMMANDS).map(([name, [, what]]) => `  ${name.padEnd(16)}${what}`);
  (asked ? process.stdout : process.stderr).write(`usage: signet [command]   (default: start)\n${lines.join('\n')}\n`);
  process.exit(asked ? 0 : 2);
}
const entry = join(__dirname, '..', 'dist', COMMANDS[command][0]);
if (!existsSync(entry)) {
  process.stderr.write(`signet: ${entry} is missing; run \`npm run build\` first\n`);
  process.exit(1);
}
// The entry reads its own arguments (migrate's subcommand) from process.argv.slice(2).
process.argv = [process.argv[0], entry, ...rest];
require(entry);
