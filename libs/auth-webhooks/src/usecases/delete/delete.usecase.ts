import { Inject, Injectable } from '@nestjs/common';

import { AUTH_WEBHOOK_REPOSITORY, type AuthWebhookRepository } from '../../auth-webhook.repository';
import { webhookNotFound } from '../../errors';
import { AuthWebhookChanges } from '../../org-changes';
import type { DeleteWebhookCommand } from './delete.command';

/** DELETE /v1/auth-webhook: a chain's webhook step then passes (not mine). */
@Injectable()
export class DeleteWebhookUseCase {
  constructor(
    @Inject(AUTH_WEBHOOK_REPOSITORY) private readonly webhooks: AuthWebhookRepository,
    private readonly changes: AuthWebhookChanges,
  ) {}

  async execute(command: DeleteWebhookCommand): Promise<void> {
    if (!(await this.webhooks.delete(command.orgId))) throw webhookNotFound();
    await this.changes.announce(command.orgId);
  }
}
