import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { Command, Option } from 'commander';

import { CliError, EXIT } from '../errors';
import { Output } from '../output';
import { GlobalOptions, Session } from '../session';

interface AuditEvent {
  id: string;
  at: string;
  type: string;
  actor: { kind: string; id: string | null };
  action: string;
  target: string | null;
  outcome: string;
  address: string | null;
  edge_id: string | null;
  reason_code: string | null;
  duration_ms: number | null;
  request_id: string | null;
  details: Record<string, unknown> | null;
}

interface FilterOptions {
  type?: string;
  actor?: string;
  action?: string;
  outcome?: string;
  since?: string;
  until?: string;
}

const RELATIVE = /^(\d+)([smhd])$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An ISO 8601 instant, or a duration back from now: `15m`, `24h`, `7d`. */
export function parseInstant(value: string, now = Date.now()): string {
  const relative = RELATIVE.exec(value);
  if (relative) return new Date(now - Number(relative[1]) * UNIT_MS[relative[2]!]!).toISOString();
  if (Number.isNaN(Date.parse(value))) throw new CliError(`expected an ISO 8601 time or a duration like 15m, 24h, 7d; got ${value}`, EXIT.usage);
  return new Date(value).toISOString();
}

function filterParams(opts: FilterOptions): URLSearchParams {
  const params = new URLSearchParams();
  if (opts.type) params.set('type', opts.type);
  if (opts.actor) params.set('actor_id', opts.actor);
  if (opts.action) params.set('action', opts.action);
  if (opts.outcome) params.set('outcome', opts.outcome);
  if (opts.since) params.set('since', parseInstant(opts.since));
  if (opts.until) params.set('until', parseInstant(opts.until));
  return params;
}

function withFilters(command: Command): Command {
  return command
    .addOption(new Option('--type <type>', 'admin (API calls, IdP and directory events) or auth (MQTT CONNECTs)').choices(['admin', 'auth']))
    .option('--actor <id>', 'an API key id, an account id, or a user id (auth events)')
    .option('--action <name>', 'e.g. keys.create, tokens.revoke, mqtt.connect')
    .addOption(new Option('--outcome <outcome>', 'success or failure').choices(['success', 'failure']))
    .option('--since <time>', 'from this time (ISO 8601, or back from now: 15m, 24h, 7d)')
    .option('--until <time>', 'before this time (same forms)');
}

function parseLimit(value: string): number {
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new CliError(`--limit must be 1..200, got ${value}`, EXIT.usage);
  return limit;
}

const actorOf = (e: AuditEvent): string => (e.actor.id ? `${e.actor.kind}:${e.actor.id}` : e.actor.kind);
/** An aggregated CONNECT row stands for `details.count` decisions. */
const countOf = (e: AuditEvent): string => (typeof e.details?.['count'] === 'number' ? `×${e.details['count']}` : '');

/** `signet audit` (list, the default) and `signet audit export`. */
export function registerAudit(program: Command): void {
  const audit = program.command('audit').description("the org's audit log: administrative actions and MQTT CONNECT decisions (owners and admins)");
  withFilters(audit.command('list', { isDefault: true }).description('list events, newest first'))
    .addOption(new Option('--limit <n>', 'events per page (1..200)').argParser(parseLimit).default(50))
    .option('--cursor <cursor>', 'the next page (printed after a full page)')
    .action(async (opts: FilterOptions & { limit: number; cursor?: string }, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      const session = new Session(options);
      const out = new Output(options.json === true);
      const params = filterParams(opts);
      params.set('limit', String(opts.limit));
      if (opts.cursor) params.set('cursor', opts.cursor);
      const page = await session.api<{ events: AuditEvent[]; next_cursor: string | null }>('GET', `/v1/audit?${params}`);
      out.table(
        page,
        ['at', 'type', 'actor', 'action', 'target', 'outcome', 'reason', 'address', ''],
        page.events.map((e) => [e.at, e.type, actorOf(e), e.action, e.target, e.outcome, e.reason_code, e.address, countOf(e)]),
      );
      if (page.next_cursor && !out.json) out.info(`more: signet audit --cursor ${page.next_cursor}`);
    });
  withFilters(audit.command('export').description('every matching event to stdout, as NDJSON or CSV'))
    .addOption(new Option('--format <format>', 'ndjson or csv').choices(['ndjson', 'csv']).default('ndjson'))
    .action(async (opts: FilterOptions & { format: string }, command: Command) => {
      const session = new Session(command.optsWithGlobals<GlobalOptions>());
      const params = filterParams(opts);
      params.set('format', opts.format);
      const body = await openExport(session, `/v1/audit/export?${params}`);
      await pipeline(Readable.fromWeb(body as Parameters<typeof Readable.fromWeb>[0]), process.stdout);
    });
}

/** The export's body as it arrives (Session.api reads a whole JSON answer; an export can be the whole log). */
async function openExport(session: Session, path: string): Promise<ReadableStream<Uint8Array>> {
  const { server, token } = await session.bearer();
  let res: Response;
  try {
    res = await fetch(new URL(path, server), { headers: { authorization: `Bearer ${token}` } });
  } catch (err) {
    throw new CliError(`cannot reach ${server}: ${(err as Error).cause ?? (err as Error).message}`);
  }
  if (res.ok && res.body) return res.body;
  const problem = ((await res.json().catch(() => null)) ?? {}) as { code?: string; detail?: string };
  const message = `${problem.code ?? `HTTP ${res.status}`}: ${problem.detail ?? res.statusText}`;
  throw new CliError(res.status === 401 ? `${message}: run \`signet login\`` : message, res.status === 401 ? EXIT.signInRequired : EXIT.failure, problem);
}
