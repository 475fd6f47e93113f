import { Inject, Injectable } from '@nestjs/common';

import { AUTH_WEBHOOK_REPOSITORY, type AuthWebhookRepository, type StoredWebhook } from '../../auth-webhook.repository';
import { webhookNotFound } from '../../errors';
import type { GetWebhookCommand } from './get.command';

/** GET /v1/auth-webhook (the secrets are never answered again). */
@Injectable()
export class GetWebhookUseCase {
  constructor(@Inject(AUTH_WEBHOOK_REPOSITORY) private readonly webhooks: AuthWebhookRepository) {}

  async execute(command: GetWebhookCommand): Promise<StoredWebhook> {
    const found = await this.webhooks.find(command.orgId);
    if (!found) throw webhookNotFound();
    return found;
  }
}
