import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';

import { LOGGER } from '@signet/observability';
import { SECRET_BOX, SecretBox } from '@signet/persistence';

import { Deprovisioner } from '../../deprovisioner';
import { ldapNotConfigured } from '../../errors';
import { checkLdapConnection } from '../../ldap/ldap-policy';
import { describeLdapError, LdapReadProgress, readLdap, readLdapChanges } from '../../ldap/ldap-reader';
import type { LdapSyncKind, LdapSyncStatus } from '../../ldap/ldap-snapshot';
import { LDAP_REPOSITORY, LdapRepository } from '../../ldap/ldap.repository';
import { DIRECTORY_OPTIONS, DirectoryOptions } from '../../options';
import { ldapSecretContext } from '../configure-ldap/configure-ldap.usecase';
import type { SyncLdapCommand } from './sync-ldap.command';

/** A sync running in this process, for the status API. */
export interface LdapSyncProgress {
  kind: LdapSyncKind;
  startedAt: string;
  phase: 'connecting' | LdapReadProgress['phase'] | 'applying';
  entries: number;
}

/**
 * A sync: read (paged; everything, or what changed since the cursor), then
 * apply it in one transaction, or nothing when the read fails or would
 * disable/remove more than the allowed share. Users who lost access are then
 * revoked (tokens, and sessions closed on every edge).
 */
@Injectable()
export class SyncLdapUseCase {
  private readonly running = new Map<string, LdapSyncProgress>();

  constructor(
    @Inject(LDAP_REPOSITORY) private readonly ldap: LdapRepository,
    @Inject(SECRET_BOX) private readonly secretBox: SecretBox,
    @Inject(DIRECTORY_OPTIONS) private readonly options: DirectoryOptions,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly deprovisioner: Deprovisioner,
  ) {}

  /** The org's sync running in this process now, if any. */
  progress(orgId: string): LdapSyncProgress | null {
    return this.running.get(orgId) ?? null;
  }

  async execute(command: SyncLdapCommand): Promise<LdapSyncStatus> {
    const connection = await this.ldap.find(command.orgId);
    if (!connection) throw ldapNotConfigured();
    const bindPassword = this.secretBox.open(connection.sealedBindPassword, ldapSecretContext(command.orgId));
    checkLdapConnection({ ...connection, bindPassword }, this.options.ldapAllowPlain);
    const at = new Date().toISOString();
    const progress: LdapSyncProgress = { kind: command.kind, startedAt: at, phase: 'connecting', entries: 0 };
    this.running.set(command.orgId, progress);
    const onProgress = (p: LdapReadProgress) => Object.assign(progress, p);
    let status: LdapSyncStatus;
    try {
      const options = { ...connection, bindPassword };
      let fullBecause: string | undefined;
      let snapshot = command.kind === 'incremental' ? await readLdapChanges(options, connection.syncCursor, onProgress) : await readLdap(options, onProgress);
      if ('fullSyncNeeded' in snapshot) {
        fullBecause = snapshot.fullSyncNeeded;
        snapshot = await readLdap(options, onProgress);
      }
      const kind: LdapSyncKind = snapshot.partial ? 'incremental' : 'full';
      progress.kind = kind;
      progress.phase = 'applying';
      const result = await this.ldap.apply(command.orgId, snapshot, connection.maxDisableShare);
      if (result.status === 'ok') await this.deprovisioner.revoke(command.orgId, result.revokeUserNames);
      status =
        result.status === 'ok'
          ? { at, kind, status: 'ok', counts: result.counts, ...(fullBecause ? { full_because: fullBecause } : {}) }
          : { at, kind, status: 'refused', reason: result.reason, counts: result.counts, ...(fullBecause ? { full_because: fullBecause } : {}) };
    } catch (err) {
      const reason = describeLdapError(err);
      this.logger.warn({ org_id: command.orgId, reason }, 'LDAP sync failed; nothing changed');
      status = { at, kind: progress.kind, status: 'failed', reason };
    }
    try {
      await this.ldap.recordStatus(command.orgId, status);
    } finally {
      // Not running any more only once its result is the last one.
      this.running.delete(command.orgId);
    }
    return status;
  }
}
