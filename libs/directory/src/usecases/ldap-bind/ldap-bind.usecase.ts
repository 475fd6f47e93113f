import { Inject, Injectable } from '@nestjs/common';
import { InvalidCredentialsError } from 'ldapts';
import type { Logger } from 'pino';

import type { LdapBinder, LdapBindVerdict } from '@signet/contracts';
import { LOGGER } from '@signet/observability';
import { SECRET_BOX, SecretBox } from '@signet/persistence';

import { unionOf } from '../../directory-issuance-gate';
import { DIRECTORY_REPOSITORY, DirectoryRepository } from '../../directory.repository';
import { escapeFilterValue } from '../../ldap/ldap-escape';
import { checkLdapConnection } from '../../ldap/ldap-policy';
import { describeLdapError, openLdap } from '../../ldap/ldap-reader';
import { LDAP_REPOSITORY, LdapRepository } from '../../ldap/ldap.repository';
import { DIRECTORY_OPTIONS, DirectoryOptions } from '../../options';
import { ldapSecretContext } from '../configure-ldap/configure-ldap.usecase';

/**
 * The edge's `ldap` chain step, in-process: the user must be a synced, active
 * directory user whose groups grant something (decided from the database
 * before the directory is asked), then their password is checked by a bind
 * as their own entry, found by the sync account with an escaped filter. The
 * edge caches the verdict; this runs once per new credential, not per CONNECT.
 */
@Injectable()
export class LdapBindUseCase implements LdapBinder {
  constructor(
    @Inject(LDAP_REPOSITORY) private readonly ldap: LdapRepository,
    @Inject(DIRECTORY_REPOSITORY) private readonly directory: DirectoryRepository,
    @Inject(SECRET_BOX) private readonly secretBox: SecretBox,
    @Inject(DIRECTORY_OPTIONS) private readonly options: DirectoryOptions,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async bindConnect(orgId: string, userName: string, password: string): Promise<LdapBindVerdict> {
    const connection = await this.ldap.find(orgId);
    if (!connection) return { result: 'ignore' };
    // RFC 4513 §5.1.2: a name with an empty password is an unauthenticated bind, which servers may accept.
    if (password.length === 0) return { result: 'deny', detail: 'an empty password is an anonymous bind' };
    const access = await this.directory.access(orgId, userName);
    const user = access?.user?.userName === userName ? access.user : null;
    if (!user) return { result: 'deny', detail: 'not a user of the directory' };
    if (!user.active) return { result: 'deny', detail: 'deactivated in the directory' };
    const permissions = unionOf(user.permissions);
    if (permissions.publish.length === 0 && permissions.subscribe.length === 0) return { result: 'deny', detail: "none of the user's groups grants MQTT permissions" };

    const bindPassword = this.secretBox.open(connection.sealedBindPassword, ldapSecretContext(orgId));
    try {
      checkLdapConnection({ ...connection, bindPassword }, this.options.ldapAllowPlain);
    } catch {
      return { result: 'unavailable', detail: 'the LDAP connection is not allowed here' };
    }
    let client;
    try {
      client = await openLdap({ ...connection, bindPassword });
      const filter = `(&${connection.userFilter}(${connection.userNameAttribute}=${escapeFilterValue(userName)}))`;
      const { searchEntries } = await client.search(connection.baseDn, { scope: 'sub', filter, attributes: ['1.1'], sizeLimit: 2 });
      if (searchEntries.length !== 1) return { result: 'deny', detail: searchEntries.length === 0 ? 'no such entry in the directory' : 'the user name is not unique in the directory' };
      await client.bind(searchEntries[0]!.dn, password);
      return { result: 'allow', permissions };
    } catch (err) {
      if (err instanceof InvalidCredentialsError) return { result: 'deny', detail: 'the directory refused the password' };
      const detail = describeLdapError(err);
      this.logger.warn({ org_id: orgId, reason: detail }, 'LDAP bind step: the directory could not be asked');
      return { result: 'unavailable', detail };
    } finally {
      await client?.unbind().catch(() => undefined);
    }
  }
}
