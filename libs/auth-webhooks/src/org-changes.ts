import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { AUTH_CONFIG_CHANGED, AUTH_CONFIG_NOTICE_MS, authConfigChangeId, orgsOfAuthConfigChange } from '@signet/mqtt-auth';
import { LOGGER, type Logger } from '@signet/observability';
import { type Revocation, type RevocationBus, RevocationPublisher } from '@signet/revocation';

import { AUTH_WEBHOOK_REPOSITORY, type AuthWebhookRepository } from './auth-webhook.repository';

/**
 * Notice that an org's webhook, chain, CAs or certificate rule changed:
 * caches in this process (targets, chains, verdicts, the trust snapshot) drop
 * it at once (`changed`), and edges elsewhere hear it over the revocation
 * path (`announce`, or `notice` inside the change's own transaction).
 */
@Injectable()
export class AuthWebhookChanges {
  private readonly listeners = new Set<(orgId: string) => void>();
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(AUTH_WEBHOOK_REPOSITORY) private readonly webhooks: AuthWebhookRepository,
    @Inject(RevocationPublisher) private readonly publisher: RevocationPublisher<EntityManager>,
  ) {}

  onChange(listener: (orgId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** In this process only. */
  changed(orgId: string): void {
    for (const l of this.listeners) l(orgId);
  }

  /**
   * Hears the changes other processes announce (another replica of this
   * service), so what this one caches about an org goes at once there too.
   * Returns the unsubscribe.
   */
  follow(bus: Pick<RevocationBus, 'subscribe'>): () => void {
    return bus.subscribe((event) => {
      for (const orgId of orgsOfAuthConfigChange(event.credentialIds)) this.changed(orgId);
    });
  }

  /**
   * A change already committed: this process at once, every edge through the
   * revocation path. A notice that cannot be recorded is logged; edges then
   * see the change when their cached copy expires (30 s).
   */
  async announce(orgId: string): Promise<void> {
    this.changed(orgId);
    try {
      await this.webhooks.transaction((tx) => this.publisher.record(tx.manager, notice(orgId)));
    } catch (err) {
      this.logger.warn({ err, orgId }, 'authentication change not announced to edges; they see it within 30 s');
    }
  }
}

/** The revocation that carries the notice; merged into a real revocation's ids when the change revokes too. */
export function notice(orgId: string, revocation?: Revocation): Revocation {
  const id = authConfigChangeId(orgId);
  if (!revocation) return { credentialIds: [id], until: Date.now() + AUTH_CONFIG_NOTICE_MS, reason: AUTH_CONFIG_CHANGED, orgId };
  return { ...revocation, credentialIds: [...revocation.credentialIds, id], until: Math.max(revocation.until, Date.now() + AUTH_CONFIG_NOTICE_MS), orgId };
}
