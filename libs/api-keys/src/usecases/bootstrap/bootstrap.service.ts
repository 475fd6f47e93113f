import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import { newOrgId } from '@signet/credentials';
import { DATA_SOURCE, LOGGER } from '@signet/http';
import type { Logger } from '@signet/observability';
import { ADVISORY_LOCKS, advisoryXactLock, inTransaction, OrgEntity } from '@signet/persistence';

import { ApiKeysService } from './api-keys.service';

export interface BootstrapResult {
  orgId: string;
  /** The `sk_` key string: returned this once, never stored in clear. */
  apiKey: string;
}

export const BOOTSTRAP_ORG_NAME = 'default';
export const BOOTSTRAP_KEY_NAME = 'bootstrap';

/**
 * First start: an empty database gets a default org and one secret key, so a
 * fresh install is usable at once. Runs under a transaction-scoped advisory
 * lock: two processes starting together serialise here, and the second sees
 * the first one's org and does nothing.
 */
@Injectable()
export class BootstrapService {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly keys: ApiKeysService,
  ) {}

  async ensureBootstrap(): Promise<BootstrapResult | null> {
    const result = await inTransaction(this.dataSource, async (manager) => {
      await advisoryXactLock(manager, ADVISORY_LOCKS.bootstrap);
      const rows: Array<{ present: boolean }> = await manager.query('SELECT EXISTS (SELECT 1 FROM orgs) AS present');
      if (rows[0]?.present) return null;
      const orgId = newOrgId();
      await manager.insert(OrgEntity, { id: orgId, name: BOOTSTRAP_ORG_NAME, maxTokenTtlSeconds: null });
      const key = await this.keys.createKey({ orgId, name: BOOTSTRAP_KEY_NAME, type: 'secret' }, manager);
      return { orgId, apiKey: key.apiKey, keyId: key.keyId };
    });
    if (!result) return null;
    // The key itself is never logged: the caller shows it once to the operator.
    this.logger.info({ orgId: result.orgId, keyId: result.keyId }, 'bootstrapped an empty database: default org and API key created');
    return { orgId: result.orgId, apiKey: result.apiKey };
  }
}
