import { Argument, Command } from 'commander';

import { allowingGrant, topicFilterProblem, topicNameProblem, type Permissions } from '@signet/permissions';

import { CliError, EXIT } from '../errors';
import type { Session } from '../session';
import type { Me } from './auth';
import { context, pages, query } from './context';
import type { TokenMetadata } from './tokens';

type Action = 'publish' | 'subscribe';

/** The grants of one credential, as the edge fills them at CONNECT. */
interface Grants {
  tokenId: string;
  userId: string;
  orgId: string | null;
  clientId: string | null;
  permissions: Permissions;
}

export interface Verdict {
  token_id: string;
  allowed: boolean;
  /** The grant as written (placeholders and all), and as filled for this connection. */
  rule: string | null;
  filled: string | null;
}

/** The claims of a `tkn_` password, read without verifying it (the edge verifies at CONNECT): only what it grants. */
function grantsOfToken(token: string): Grants {
  const parts = token.slice('tkn_'.length).split('.');
  try {
    const claims = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8')) as {
      sub: string;
      org: string;
      jti: string;
      cid?: string;
      perm: { pub: string[]; sub: string[] };
    };
    if (typeof claims.sub !== 'string' || !Array.isArray(claims.perm?.pub) || !Array.isArray(claims.perm?.sub)) throw new Error('claims');
    return { tokenId: claims.jti, userId: claims.sub, orgId: claims.org, clientId: claims.cid ?? null, permissions: { publish: claims.perm.pub, subscribe: claims.perm.sub } };
  } catch {
    throw new CliError('not a tkn_ token this server issued (the claims do not decode)', EXIT.usage);
  }
}

/** The org of the caller, for `{org_id}` grants: the signed-in account's, else the API key's MQTT username's. */
async function callerOrg(session: Session): Promise<string | null> {
  const me = await session.api<Me>('GET', '/v1/accounts/me').catch(() => null);
  if (me) return me.org_id;
  const keys = await session.api<{ keys: Array<{ mqtt_username: string }> }>('GET', '/v1/keys?limit=1').catch(() => null);
  const username = keys?.keys[0]?.mqtt_username;
  return username?.includes('@') ? username.slice(username.indexOf('@') + 1) : null;
}

/** Which grant of `grants` allows the action, filled as the edge fills it for `clientId`. */
export function check(grants: Grants, action: Action, topic: string, clientId: string | undefined): Verdict {
  const values = { user_id: grants.userId, ...(grants.orgId ? { org_id: grants.orgId } : {}), ...(clientId ?? grants.clientId ? { client_id: clientId ?? grants.clientId! } : {}) };
  const grant = allowingGrant(grants.permissions, values, action, topic);
  return { token_id: grants.tokenId, allowed: grant !== null, rule: grant?.rule ?? null, filled: grant?.filled ?? null };
}

/** acl check: may this user (its live tokens) or this token publish to / subscribe to a topic, and by which grant. */
export function registerAcl(program: Command): void {
  const acl = program.command('acl').description('check topic permissions');
  acl
    .command('check')
    .description("whether a user's live tokens (or one tkn_ token) may publish or subscribe to a topic, and by which grant; exit 5 when not")
    .argument('<subject>', 'a user id (its active tokens are checked) or a tkn_ token')
    .addArgument(new Argument('<action>', 'what the client does').choices(['publish', 'subscribe']))
    .argument('<topic>', 'a topic name (publish) or filter (subscribe)')
    .option('--client-id <id>', 'the MQTT client id, for grants with {client_id}')
    .action(async (subject: string, action: Action, topic: string, opts: { clientId?: string }, command: Command) => {
      const { session, out } = context(command);
      const problem = action === 'publish' ? topicNameProblem(topic) : topicFilterProblem(topic);
      if (problem !== null) throw new CliError(`${JSON.stringify(topic)} is not a valid topic ${action === 'publish' ? 'name' : 'filter'}: ${problem}`, EXIT.usage);
      let checked: Grants[];
      if (subject.startsWith('tkn_')) {
        checked = [grantsOfToken(subject)];
      } else {
        const org = await callerOrg(session);
        const tokens = await pages<TokenMetadata>(session, (cursor) => `/v1/tokens${query({ user_id: subject, status: 'active', cursor })}`, 'tokens', true);
        checked = tokens.map((t) => ({ tokenId: t.token_id, userId: t.user_id, orgId: org, clientId: t.client_id, permissions: t.permissions }));
      }
      const verdicts = checked.map((g) => check(g, action, topic, opts.clientId));
      const allowing = verdicts.find((v) => v.allowed) ?? null;
      const result = { subject, action, topic, allowed: allowing !== null, rule: allowing?.rule ?? null, token_id: allowing?.token_id ?? null, tokens: verdicts };
      out.result(result, () => {
        if (checked.length === 0) return `${subject} has no active token: nothing is allowed`;
        if (allowing === null) return `${out.state('denied')}: no grant of ${verdicts.map((v) => v.token_id).join(', ')} allows ${action} ${topic}`;
        const filled = allowing.filled !== allowing.rule ? ` (${allowing.filled})` : '';
        return `${out.state('allowed')}: ${action} ${topic} by ${allowing.rule}${filled} of ${allowing.token_id}`;
      });
      if (allowing === null) process.exitCode = EXIT.denied;
    });
}
