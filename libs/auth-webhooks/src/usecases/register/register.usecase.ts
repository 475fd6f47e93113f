import { Inject, Injectable } from '@nestjs/common';

import { AUTH_WEBHOOK_REPOSITORY, type AuthWebhookRepository, type StoredWebhook } from '../../auth-webhook.repository';
import { invalidWebhookUrl, orgOfKeyGone } from '../../errors';
import { AuthWebhookChanges } from '../../org-changes';
import { generateWebhookSecret } from '../../signature';
import { WebhookClient } from '../../webhook-client';
import type { RegisterWebhookCommand } from './register.command';

/**
 * PUT /v1/auth-webhook: registers or replaces the org's endpoint. A new
 * registration gets a fresh secret (answered once); a replacement keeps the
 * secrets and changes url, password opt-in and fail mode.
 */
@Injectable()
export class RegisterWebhookUseCase {
  constructor(
    @Inject(AUTH_WEBHOOK_REPOSITORY) private readonly webhooks: AuthWebhookRepository,
    private readonly client: WebhookClient,
    private readonly changes: AuthWebhookChanges,
  ) {}

  async execute(command: RegisterWebhookCommand): Promise<{ webhook: StoredWebhook; secret: string | null }> {
    const problem = this.client.checkUrl(command.url);
    if (problem) throw invalidWebhookUrl(problem);
    const existing = await this.webhooks.find(command.orgId);
    const secret = existing ? null : generateWebhookSecret();
    const saved = await this.webhooks.save(command.orgId, {
      url: command.url,
      secret: existing?.secret ?? secret!,
      previousSecret: existing?.previousSecret ?? null,
      previousSecretUntil: existing?.previousSecretUntil ?? null,
      sendPassword: command.sendPassword ?? existing?.sendPassword ?? false,
      failMode: command.failMode ?? existing?.failMode ?? 'deny',
    });
    if (!saved) throw orgOfKeyGone();
    this.client.reset(command.orgId);
    await this.changes.announce(command.orgId);
    return { webhook: saved, secret };
  }
}
