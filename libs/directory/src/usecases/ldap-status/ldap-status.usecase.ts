import { Inject, Injectable } from '@nestjs/common';

import { ldapNotConfigured } from '../../errors';
import { LDAP_REPOSITORY, LdapConnection, LdapRepository } from '../../ldap/ldap.repository';
import { LdapSyncProgress, SyncLdapUseCase } from '../sync-ldap/sync-ldap.usecase';
import type { LdapStatusCommand } from './ldap-status.command';

/** The org's connection with its last sync, and the sync this process is running for it now. */
@Injectable()
export class LdapStatusUseCase {
  constructor(
    @Inject(LDAP_REPOSITORY) private readonly ldap: LdapRepository,
    private readonly sync: SyncLdapUseCase,
  ) {}

  async execute(command: LdapStatusCommand): Promise<{ connection: LdapConnection; running: LdapSyncProgress | null }> {
    const connection = await this.ldap.find(command.orgId);
    if (!connection) throw ldapNotConfigured();
    return { connection, running: this.sync.progress(command.orgId) };
  }
}
