import { Inject, Injectable } from '@nestjs/common';

import { AUTH_WEBHOOK_REPOSITORY, type AuthWebhookRepository } from '../../auth-webhook.repository';
import { checkChain, DEFAULT_CHAIN_STEPS } from '../../chain-policy';
import { invalidChain, orgOfKeyGone } from '../../errors';
import { AuthWebhookChanges } from '../../org-changes';
import type { SetChainCommand } from './set-chain.command';

/** PUT /v1/authenticator-chain. */
@Injectable()
export class SetChainUseCase {
  constructor(
    @Inject(AUTH_WEBHOOK_REPOSITORY) private readonly webhooks: AuthWebhookRepository,
    private readonly changes: AuthWebhookChanges,
  ) {}

  async execute(command: SetChainCommand): Promise<{ steps: string[]; isDefault: boolean }> {
    if (command.steps === null) {
      await this.webhooks.deleteChain(command.orgId);
      await this.changes.announce(command.orgId);
      return { steps: [...DEFAULT_CHAIN_STEPS], isDefault: true };
    }
    const problem = checkChain(command.steps);
    if (problem) throw invalidChain(problem);
    const saved = await this.webhooks.saveChain(command.orgId, command.steps);
    if (!saved) throw orgOfKeyGone();
    await this.changes.announce(command.orgId);
    return { steps: saved, isDefault: false };
  }
}
