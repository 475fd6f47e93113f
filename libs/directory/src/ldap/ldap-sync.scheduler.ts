import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';

import { LOGGER } from '@signet/observability';
import { PeriodicPass } from '@signet/persistence';

import { DIRECTORY_OPTIONS, DirectoryOptions } from '../options';
import { SyncLdapUseCase } from '../usecases/sync-ldap/sync-ldap.usecase';
import { LDAP_REPOSITORY, LdapRepository } from './ldap.repository';

/**
 * Every SIGNET_LDAP_SYNC_INTERVAL_MS (0: never), a sync of every org's LDAP
 * connection, one org after the other: incremental, or full when the last
 * full one is older than SIGNET_LDAP_FULL_SYNC_INTERVAL_MS (only a full sync
 * finds deletions). The next pass is scheduled only when this one ended, so
 * passes never pile up. Each result is in the org's `last_sync`. Replicas
 * serialise per org in the database (advisory lock).
 */
@Injectable()
export class LdapSyncScheduler extends PeriodicPass<void> {
  constructor(
    @Inject(DIRECTORY_OPTIONS) private readonly options: DirectoryOptions,
    @Inject(LDAP_REPOSITORY) private readonly ldap: LdapRepository,
    @Inject(LOGGER) logger: Logger,
    private readonly sync: SyncLdapUseCase,
  ) {
    super({ intervalMs: options.ldapSyncIntervalMs, failed: undefined, logger, name: 'scheduled LDAP sync pass' });
  }

  protected async pass(_nowMs: number, stopping: () => boolean): Promise<void> {
    for (const orgId of await this.ldap.orgIds()) {
      if (stopping()) return;
      const connection = await this.ldap.find(orgId);
      if (!connection) continue;
      const fullDue = connection.lastFullSyncAt === null || Date.now() - connection.lastFullSyncAt.getTime() >= this.options.ldapFullSyncIntervalMs;
      await this.sync.execute({ orgId, kind: fullDue ? 'full' : 'incremental' });
    }
  }
}
