import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { userIdProblem } from '@signet/credentials';
import { webhookCredentialId } from '@signet/mqtt-auth';
import { RevocationPublisher } from '@signet/revocation';

import { AUTH_WEBHOOK_REPOSITORY, type AuthWebhookRepository } from '../../auth-webhook.repository';
import { invalidUserId } from '../../errors';
import type { RevokeWebhookUserCommand } from './revoke-user.command';

/**
 * How long edges refuse the user outright (the deny list adds its grace, a
 * minute by default): no reconnect is let in by a verdict cached before the
 * revocation; after it the webhook decides again, and it denies whom the
 * customer wants kept out.
 */
const DENY_MS = 2000;

/**
 * POST /v1/auth-webhook/revocations: the user's webhook sessions are closed on
 * every edge (DISCONNECT 0x98) and their cached verdicts dropped, through the
 * one revocation path; once the short deny lapses the webhook is asked again.
 */
@Injectable()
export class RevokeWebhookUserUseCase {
  constructor(
    @Inject(AUTH_WEBHOOK_REPOSITORY) private readonly webhooks: AuthWebhookRepository,
    @Inject(RevocationPublisher) private readonly publisher: RevocationPublisher<EntityManager>,
  ) {}

  async execute(command: RevokeWebhookUserCommand): Promise<{ credentialId: string }> {
    const user = command.userId;
    // As a token's user id, and without '@' (the MQTT username's last '@' ends it).
    if (userIdProblem(user) !== null || user.includes('@')) throw invalidUserId();
    const credentialId = webhookCredentialId(command.orgId, user);
    await this.webhooks.transaction((tx) =>
      this.publisher.record(tx.manager, { credentialIds: [credentialId], until: Date.now() + DENY_MS, reason: 'webhook_user_revoked' }),
    );
    return { credentialId };
  }
}
