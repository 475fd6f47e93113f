import { Inject, Injectable } from '@nestjs/common';

import { topicFilterProblem, topicNameProblem } from '@signet/permissions';

import { allowingRule } from '../../acl-policy';
import { invalidAclSubject, invalidTopic } from '../../errors';
import { checkUserId } from '../../token-policy';
import { TOKEN_REPOSITORY, TokenRepository } from '../../token.repository';
import { IntrospectTokenUseCase } from '../introspect/introspect.usecase';
import type { CheckAclCommand } from './check-acl.command';

/** More live tokens of one user than the check looks at: the newest ones decide. */
export const ACL_CHECK_MAX_TOKENS = 100;

export interface AclVerdict {
  allowed: boolean;
  /** The permission template that allows it, as granted (placeholders unfilled); null when denied. */
  rule: string | null;
  /** The token whose rule decided; null when denied. */
  tokenId: string | null;
  /** Why nothing could allow it: no live token of the user, or the token is not live. */
  reason: 'allowed' | 'no_rule_matches' | 'no_live_token' | 'token_inactive';
}

/**
 * The edge's own decision for a topic, read-only: a token's permissions expanded with its user, org and
 * client id, then matched with the same functions the edge uses ({@link allowingRule}).
 */
@Injectable()
export class CheckAclUseCase {
  constructor(
    @Inject(TOKEN_REPOSITORY) private readonly tokens: TokenRepository,
    private readonly introspect: IntrospectTokenUseCase,
  ) {}

  async execute(command: CheckAclCommand): Promise<AclVerdict> {
    if ((command.userId === undefined) === (command.token === undefined)) throw invalidAclSubject();
    const problem = command.action === 'publish' ? topicNameProblem(command.topic) : topicFilterProblem(command.topic);
    if (problem) throw invalidTopic(`${command.action === 'publish' ? 'a topic name' : 'a topic filter'} is expected (${problem})`);
    const candidates: Array<{ tokenId: string; userId: string; clientId: string | null; publish: string[]; subscribe: string[] }> = [];
    if (command.token !== undefined) {
      const found = await this.introspect.execute({ orgId: command.orgId, token: command.token });
      if (!found.active) return { allowed: false, rule: null, tokenId: null, reason: 'token_inactive' };
      const { claims } = found;
      candidates.push({ tokenId: claims.jti, userId: claims.sub, clientId: claims.cid ?? null, publish: claims.perm.pub, subscribe: claims.perm.sub });
    } else {
      const userId = checkUserId(command.userId!);
      const live = await this.tokens.list({ orgId: command.orgId, userId, status: 'active', limit: ACL_CHECK_MAX_TOKENS });
      for (const t of live) candidates.push({ tokenId: t.id, userId: t.userId, clientId: t.clientId, ...t.permissions });
      if (candidates.length === 0) return { allowed: false, rule: null, tokenId: null, reason: 'no_live_token' };
    }
    for (const c of candidates) {
      const values = { user_id: c.userId, org_id: command.orgId, client_id: c.clientId ?? command.clientId };
      const rule = allowingRule(c, values, command.action, command.topic);
      if (rule !== null) return { allowed: true, rule, tokenId: c.tokenId, reason: 'allowed' };
    }
    return { allowed: false, rule: null, tokenId: null, reason: 'no_rule_matches' };
  }
}
