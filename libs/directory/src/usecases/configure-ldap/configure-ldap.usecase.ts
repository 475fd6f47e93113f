import { Inject, Injectable } from '@nestjs/common';

import { SECRET_BOX, SecretBox } from '@signet/persistence';

import { DirectoryIssuanceGate } from '../../directory-issuance-gate';
import { checkLdapConnection } from '../../ldap/ldap-policy';
import { LDAP_REPOSITORY, LdapConnection, LdapRepository } from '../../ldap/ldap.repository';
import { DIRECTORY_OPTIONS, DirectoryOptions } from '../../options';
import type { ConfigureLdapCommand } from './configure-ldap.command';

/** The SecretBox context of an org's bind password: a sealed value copied to another org does not open. */
export const ldapSecretContext = (orgId: string): string => `ldap:${orgId}`;

/** Stores the connection with the bind password sealed with the master key. */
@Injectable()
export class ConfigureLdapUseCase {
  constructor(
    @Inject(LDAP_REPOSITORY) private readonly ldap: LdapRepository,
    @Inject(SECRET_BOX) private readonly secretBox: SecretBox,
    @Inject(DIRECTORY_OPTIONS) private readonly options: DirectoryOptions,
    private readonly gate: DirectoryIssuanceGate,
  ) {}

  async execute(command: ConfigureLdapCommand): Promise<LdapConnection> {
    checkLdapConnection(command, this.options.ldapAllowPlain);
    const { bindPassword, ...rest } = command;
    const saved = await this.ldap.save({ ...rest, sealedBindPassword: this.secretBox.seal(bindPassword, ldapSecretContext(command.orgId)) });
    // The connection makes the org's directory: its next issuance applies it.
    this.gate.forget(command.orgId);
    return saved;
  }
}
