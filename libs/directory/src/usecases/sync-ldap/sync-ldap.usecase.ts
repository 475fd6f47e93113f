import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';

import { LOGGER } from '@signet/observability';
import { SECRET_BOX, SecretBox } from '@signet/persistence';

import { Deprovisioner } from '../../deprovisioner';
import { ldapNotConfigured } from '../../errors';
import { checkLdapConnection } from '../../ldap/ldap-policy';
import { readLdap } from '../../ldap/ldap-reader';
import type { LdapSyncStatus } from '../../ldap/ldap-snapshot';
import { LDAP_REPOSITORY, LdapRepository } from '../../ldap/ldap.repository';
import { ldapSecretContext } from '../configure-ldap/configure-ldap.usecase';
import type { SyncLdapCommand } from './sync-ldap.command';

/**
 * A full sync: read everything (paged), then apply it in one transaction, or
 * nothing when the read fails or would disable/remove more than the allowed
 * share. Users who lost access are then revoked (sessions closed on every edge).
 */
@Injectable()
export class SyncLdapUseCase {
  constructor(
    @Inject(LDAP_REPOSITORY) private readonly ldap: LdapRepository,
    @Inject(SECRET_BOX) private readonly secretBox: SecretBox,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly deprovisioner: Deprovisioner,
  ) {}

  async execute(command: SyncLdapCommand): Promise<LdapSyncStatus> {
    const connection = await this.ldap.find(command.orgId);
    if (!connection) throw ldapNotConfigured();
    const bindPassword = this.secretBox.open(connection.sealedBindPassword, ldapSecretContext(command.orgId));
    checkLdapConnection({ ...connection, bindPassword });
    const at = new Date().toISOString();
    let status: LdapSyncStatus;
    try {
      const snapshot = await readLdap({ ...connection, bindPassword });
      const result = await this.ldap.apply(command.orgId, snapshot, connection.maxDisableShare);
      if (result.status === 'ok') await this.deprovisioner.revoke(command.orgId, result.revokeUserNames);
      status = result.status === 'ok' ? { at, status: 'ok', counts: result.counts } : { at, status: 'refused', reason: result.reason, counts: result.counts };
    } catch (err) {
      // The server's message names what failed (bind, filter, timeout); never the password.
      const reason = err instanceof Error ? `${err.constructor.name}: ${err.message}` : 'unknown error';
      this.logger.warn({ org_id: command.orgId, reason }, 'LDAP sync failed; nothing changed');
      status = { at, status: 'failed', reason };
    }
    await this.ldap.recordStatus(command.orgId, status);
    return status;
  }
}
