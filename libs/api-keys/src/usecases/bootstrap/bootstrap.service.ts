import { Inject, Injectable } from '@nestjs/common';

import { newOrgId } from '@signet/credentials';
import { LOGGER } from '@signet/observability';
import type { Logger } from '@signet/observability';

import { API_KEYS_REPOSITORY, ApiKeysRepository } from '../../api-keys.repository';
import { issueApiKey } from '../create/issue-key';

export interface BootstrapResult {
  orgId: string;
  /** The `sk_` key string: returned this once, never stored in clear. */
  apiKey: string;
  keyId: string;
}

export const BOOTSTRAP_ORG_NAME = 'default';
export const BOOTSTRAP_KEY_NAME = 'bootstrap';

/**
 * First start: an empty database gets a default org and one secret key, so a
 * fresh install is usable at once. Runs under a transaction-scoped advisory
 * lock: two processes starting together serialise here, and the second sees
 * the first one's org and does nothing. (`ensureBootstrap` is its `execute`:
 * every process calls it by that name at start.)
 */
@Injectable()
export class BootstrapService {
  constructor(
    @Inject(API_KEYS_REPOSITORY) private readonly repository: ApiKeysRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async ensureBootstrap(): Promise<BootstrapResult | null> {
    const result = await this.repository.transaction(async (tx) => {
      await tx.lockBootstrap();
      if (await tx.anyOrgExists()) return null;
      const orgId = newOrgId();
      await tx.insertOrg({ id: orgId, name: BOOTSTRAP_ORG_NAME });
      const key = await issueApiKey(tx, { orgId, name: BOOTSTRAP_KEY_NAME, type: 'secret' });
      return { orgId, apiKey: key.apiKey, keyId: key.keyId };
    });
    if (!result) return null;
    // The key itself is never logged: the caller shows it once to the operator.
    this.logger.info({ orgId: result.orgId, keyId: result.keyId }, 'bootstrapped an empty database: default org and API key created');
    return { orgId: result.orgId, apiKey: result.apiKey, keyId: result.keyId };
  }
}
