import { Inject, Injectable, Optional } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

import type { ApiKeyPrincipal } from '@signet/api-keys';
import { AUDIT_RECORDER, type AuditRecorder } from '@signet/audit';
import { ldapCredentialId } from '@signet/contracts';
import { userIdProblem } from '@signet/credentials';
import { DATA_SOURCE, inTransaction } from '@signet/persistence';
import { RevocationPublisher } from '@signet/revocation';
import { RevokeTokensUseCase } from '@signet/tokens';

import { DIRECTORY_REPOSITORY, DirectoryAccess, DirectoryRepository } from './directory.repository';

/**
 * How long edges refuse an LDAP-bound user outright after a revocation (the
 * deny list adds its grace, a minute by default): no reconnect is let in by a
 * verdict cached before it; after that the bind step asks the directory again.
 */
const LDAP_DENY_MS = 2000;

/**
 * Revokes every token and refresh token of directory users who lost access
 * (deactivated, deleted, removed from a group, a group narrowed), through the
 * token feature's user revocation, and the LDAP-bound sessions (the edge's
 * `ldap` step) of those left with no access at all: RevocationPublisher then
 * closes their live MQTT sessions on every edge. Someone whose permissions
 * merely changed keeps their LDAP session (the deny list would lock them out
 * for its grace); new binds get the new permissions once the edge's cached
 * verdict lapses. Runs after the directory change committed, so a user is refused
 * new tokens before the old ones die; a failure surfaces as an error to the
 * IdP, which retries, and revoking again is harmless.
 */
@Injectable()
export class Deprovisioner {
  constructor(
    private readonly revokeTokens: RevokeTokensUseCase,
    @Inject(DIRECTORY_REPOSITORY) private readonly directory: DirectoryRepository,
    @Inject(RevocationPublisher) private readonly publisher: RevocationPublisher<EntityManager>,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Optional() @Inject(AUDIT_RECORDER) private readonly audit?: AuditRecorder,
  ) {}

  async revoke(orgId: string, userNames: readonly string[]): Promise<void> {
    // A name that is no valid user id never got a token.
    const users = userNames.filter((n) => userIdProblem(n) === null);
    for (const userId of users) {
      const revoked = await this.revokeTokens.revokeUser({ caller: directoryCaller(orgId), userId });
      this.audit?.record({ type: 'admin', orgId, actor: { kind: 'directory', id: null }, action: 'directory.deprovision', target: userId, outcome: 'success', details: { revoked_tokens: revoked } });
    }
    const cutOff: string[] = [];
    for (const name of userNames) if (!hasAccess(await this.directory.access(orgId, name), name)) cutOff.push(name);
    if (cutOff.length === 0) return;
    await inTransaction(this.dataSource, (m) =>
      this.publisher.record(m, { credentialIds: cutOff.map((n) => ldapCredentialId(orgId, n)), until: Date.now() + LDAP_DENY_MS, reason: 'directory_user_revoked', orgId }),
    );
  }
}

/** Still an active user some of whose groups grant MQTT permissions. */
function hasAccess(access: DirectoryAccess | null, userName: string): boolean {
  const user = access?.user?.userName === userName ? access.user : null;
  return user !== null && user.active && user.permissions.some((p) => p.publish.length > 0 || p.subscribe.length > 0);
}

/** The user revocation takes its org from a caller; the directory acts for the whole org, as a secret key would. */
const directoryCaller = (orgId: string): ApiKeyPrincipal => ({
  keyId: 'directory',
  orgId,
  name: 'directory-sync',
  type: 'secret',
  scopes: [],
  ipAllowlist: [],
  expiresAt: null,
  willOnRevoke: 'suppress',
});
