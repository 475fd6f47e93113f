import { createHash } from 'node:crypto';

import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { LRUCache } from 'lru-cache';

import type { TrustSnapshot, TrustStoreSource, WebhookAuthorizer, WebhookConnectRequest, WebhookVerdict } from '@signet/contracts';

import { AUTH_WEBHOOK_REPOSITORY, type AuthWebhookRepository, type StoredWebhook } from './auth-webhook.repository';
import { CERTIFICATE_REPOSITORY, type CertificateRepository } from './certificates/certificate.repository';
import { AuthWebhookChanges } from './org-changes';
import { WebhookClient } from './webhook-client';

/** How long an org's webhook is served from memory (a change made in this process drops it at once). */
const CONFIG_CACHE_MS = 30_000;

/**
 * What edges ask the auth-webhook service (in-process in the all-in-one, over
 * gRPC otherwise): the org's chain, a CONNECT decided by the org's webhook,
 * and every org's certificate trust. None is read per CONNECT: edges cache an
 * org's chain for 30 s, webhook targets are cached here for as long, and the
 * trust store is read when an edge starts, when it is told of a change, and
 * every half minute.
 */
@Injectable()
export class AuthWebhooksEdgeHandlers implements WebhookAuthorizer, TrustStoreSource, OnModuleDestroy {
  private readonly targets = new LRUCache<string, { webhook: StoredWebhook | null }>({ max: 10_000, ttl: CONFIG_CACHE_MS });
  private readonly unsubscribe: () => void;

  constructor(
    @Inject(AUTH_WEBHOOK_REPOSITORY) private readonly webhooks: AuthWebhookRepository,
    @Inject(CERTIFICATE_REPOSITORY) private readonly certificates: CertificateRepository,
    private readonly client: WebhookClient,
    changes: AuthWebhookChanges,
  ) {
    this.unsubscribe = changes.onChange((orgId) => {
      this.targets.delete(orgId);
    });
  }

  async chainFor(orgId: string): Promise<string[] | null> {
    // Not cached here: edges cache chains themselves and ask again when told of a change, and an answer
    // cached by one replica of this service would undo that for the edges it serves.
    return this.webhooks.findChain(orgId);
  }

  async authorizeConnect(request: WebhookConnectRequest): Promise<WebhookVerdict> {
    let entry = this.targets.get(request.orgId);
    if (!entry) {
      try {
        this.targets.set(request.orgId, (entry = { webhook: await this.webhooks.find(request.orgId) }));
      } catch {
        return { result: 'unavailable', failMode: 'deny', detail: 'auth webhook configuration unavailable' };
      }
    }
    const w = entry.webhook;
    // No webhook registered: the step is not this org's business.
    if (!w) return { result: 'ignore' };
    const secrets = w.previousSecret !== null && (w.previousSecretUntil ?? 0) > Date.now() ? [w.secret, w.previousSecret] : [w.secret];
    return this.client.call({ orgId: w.orgId, url: w.url, secrets, sendPassword: w.sendPassword, failMode: w.failMode }, request);
  }

  /** Uncached: several service replicas must not answer an edge that was just told of a change with an older copy. */
  async trustStore(): Promise<TrustSnapshot> {
    const { authorities, rules } = await this.certificates.trust();
    const version = createHash('sha256').update(JSON.stringify([authorities, rules])).digest('base64url');
    return { version, authorities, rules };
  }

  async onModuleDestroy(): Promise<void> {
    this.unsubscribe();
    await this.client.close();
  }
}
