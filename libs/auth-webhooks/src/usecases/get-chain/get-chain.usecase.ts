import { Inject, Injectable } from '@nestjs/common';

import { AUTH_WEBHOOK_REPOSITORY, type AuthWebhookRepository } from '../../auth-webhook.repository';
import { DEFAULT_CHAIN_STEPS } from '../../chain-policy';
import type { GetChainCommand } from './get-chain.command';

/** GET /v1/authenticator-chain: the org's steps, the default until set. */
@Injectable()
export class GetChainUseCase {
  constructor(@Inject(AUTH_WEBHOOK_REPOSITORY) private readonly webhooks: AuthWebhookRepository) {}

  async execute(command: GetChainCommand): Promise<{ steps: string[]; isDefault: boolean }> {
    const steps = await this.webhooks.findChain(command.orgId);
    return steps ? { steps, isDefault: false } : { steps: [...DEFAULT_CHAIN_STEPS], isDefault: true };
  }
}
