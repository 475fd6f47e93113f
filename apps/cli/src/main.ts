import { Command, CommanderError } from 'commander';

import { registerAccounts } from './commands/accounts';
import { registerAcl } from './commands/acl';
import { registerAudit } from './commands/audit';
import { registerAuth } from './commands/auth';
import { registerIdp } from './commands/idp';
import { registerKeys } from './commands/keys';
import { registerOrg } from './commands/org';
import { registerSessions } from './commands/sessions';
import { registerTokens } from './commands/tokens';
import { registerTotp } from './commands/totp';
import { CliError, EXIT } from './errors';
import { Output } from './output';

/** One command group per file under commands/, each registered by one line here. */
export function buildProgram(): Command {
  const program = new Command('signet')
    .description('Sign in to a Signet server and manage it from the terminal (server commands: signet start, migrate, …)')
    .option('--profile <name>', 'the stored session to use (default: $SIGNET_PROFILE or "default")')
    .option('--server <url>', "the Signet HTTP API (default: $SIGNET_SERVER, the profile's, or http://127.0.0.1:8080)")
    .option('--json', 'print results as JSON')
    .addHelpText('after', '\nExit codes: 0 ok, 1 refused or failed, 2 usage, 3 sign-in required, 4 unsafe credentials file, 5 acl check denied (docs/cli.md).')
    .showHelpAfterError()
    .exitOverride();
  registerAuth(program);
  registerKeys(program);
  registerTokens(program);
  registerAccounts(program);
  registerSessions(program);
  registerIdp(program);
  registerOrg(program);
  registerAcl(program);
  registerTotp(program);
  registerAudit(program);
  // Command groups made after exitOverride/showHelpAfterError inherit them: usage errors reach run() (exit 2).
  return program;
}

/** The client commands and what they do, for `signet --help` of bin/signet.js. */
export function clientCommands(): Record<string, string> {
  return Object.fromEntries(buildProgram().commands.map((c) => [c.name(), c.description()]));
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
