import { Inject, Injectable } from '@nestjs/common';

import { AUTH_WEBHOOK_REPOSITORY, type AuthWebhookRepository, type StoredWebhook } from '../../auth-webhook.repository';
import { orgOfKeyGone, webhookNotFound } from '../../errors';
import { AuthWebhookChanges } from '../../org-changes';
import { generateWebhookSecret } from '../../signature';
import type { RotateWebhookSecretCommand } from './rotate-secret.command';

/** POST /v1/auth-webhook/rotate-secret: a new secret (answered once); calls carry both signatures until the old one's grace ends. */
@Injectable()
export class RotateWebhookSecretUseCase {
  constructor(
    @Inject(AUTH_WEBHOOK_REPOSITORY) private readonly webhooks: AuthWebhookRepository,
    private readonly changes: AuthWebhookChanges,
  ) {}

  async execute(command: RotateWebhookSecretCommand): Promise<{ webhook: StoredWebhook; secret: string }> {
    const existing = await this.webhooks.find(command.orgId);
    if (!existing) throw webhookNotFound();
    const secret = generateWebhookSecret();
    const grace = command.previousValidSeconds > 0;
    const saved = await this.webhooks.save(command.orgId, {
      ...existing,
      secret,
      previousSecret: grace ? existing.secret : null,
      previousSecretUntil: grace ? Date.now() + command.previousValidSeconds * 1000 : null,
    });
    if (!saved) throw orgOfKeyGone();
    await this.changes.announce(command.orgId);
    return { webhook: saved, secret };
  }
}
