import { Injectable } from '@nestjs/common';

import type { ApiKeysHandlers, ApiKeyVerification, UsageDelta } from '@signet/contracts';

import { UsageService } from '../usecases/usage/usage.service';
import { ApiKeysService } from '../usecases/verify/api-keys.service';

/**
 * What the key service answers edges (over gRPC `signet.keys.v1.ApiKeys`, or
 * in-process in the all-in-one). The verdict carries the allowlist, so the
 * edge applies it to every CONNECT from its cache; the address is sent only
 * to throttle guessing.
 */
@Injectable()
export class ApiKeysEdgeHandlers implements ApiKeysHandlers {
  constructor(
    private readonly keys: ApiKeysService,
    private readonly usage: UsageService,
  ) {}

  async verifyApiKey(key: string, remoteAddress: string): Promise<ApiKeyVerification> {
    const now = Date.now();
    const result = await this.keys.check(key, remoteAddress || undefined);
    if (result.status === 'throttled') {
      return { status: 'throttled', retryAfterMs: result.retryAfterMs, ...(result.overloaded ? { overloaded: true } : {}) };
    }
    const cacheTtlMs = Math.max(0, result.cacheUntil - now);
    if (result.status === 'invalid') return { status: 'invalid', cacheTtlMs };
    const p = result.principal;
    return {
      status: 'valid',
      cacheTtlMs,
      key: {
        keyId: p.keyId,
        orgId: p.orgId,
        name: p.name,
        type: p.type,
        scopes: p.scopes,
        ipAllowlist: p.ipAllowlist,
        expiresAt: p.expiresAt,
        // The org's will_on_revoke, read with the key: the edge maps it to Principal.willOnEnd.
        willOnRevoke: p.willOnRevoke,
      },
    };
  }

  async reportUsage(deltas: UsageDelta[]): Promise<void> {
    this.usage.add(deltas);
    for (const d of deltas) if (d.mqttConnects > 0) this.keys.touchFromEdge(d.keyId);
  }
}
