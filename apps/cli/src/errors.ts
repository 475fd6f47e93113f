/** Exit codes a script can rely on (docs/cli.md). */
export const EXIT = {
  ok: 0,
  /** The server refused or failed, or the network did. */
  failure: 1,
  /** Bad arguments (commander's own usage errors exit 2 too). */
  usage: 2,
  /** Not signed in, or the session ended: run `signet login`. */
  signInRequired: 3,
  /** The credentials file is unsafe (others can read it) or unreadable. */
  unsafeCredentials: 4,
  /** `signet acl check`: the topic is not allowed. */
  denied: 5,
} as const;

/** An error the CLI explains in one line and turns into its exit code; never a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const signInRequired = (why: string): CliError => new CliError(`${why}: run \`signet login\``, EXIT.signInRequired);
