import { Injectable } from '@nestjs/common';

/**
 * In-process notice that an org's webhook or chain changed, so caches in this
 * process (targets, chains, verdicts) drop it at once; other processes see
 * the change when their cached copy expires (SIGNET_WEBHOOK_CONFIG_CACHE_MS).
 */
@Injectable()
export class AuthWebhookChanges {
  private readonly listeners = new Set<(orgId: string) => void>();

  onChange(listener: (orgId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  changed(orgId: string): void {
    for (const l of this.listeners) l(orgId);
  }
}
