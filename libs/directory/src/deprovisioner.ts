import { Inject, Injectable, Optional } from '@nestjs/common';

import type { ApiKeyPrincipal } from '@signet/api-keys';
import { AUDIT_RECORDER, type AuditRecorder } from '@signet/audit';
import { userIdProblem } from '@signet/credentials';
import { RevokeTokensUseCase } from '@signet/tokens';

/**
 * Revokes every token and refresh token of directory users who lost access
 * (deactivated, deleted, removed from a group, a group narrowed), through the
 * token feature's user revocation: RevocationPublisher then closes their live
 * MQTT sessions on every edge. Runs after the directory change committed, so a
 * user is refused new tokens before the old ones die; a failure surfaces as an
 * error to the IdP, which retries, and revoking again is harmless.
 */
@Injectable()
export class Deprovisioner {
  constructor(
    private readonly revokeTokens: RevokeTokensUseCase,
    @Optional() @Inject(AUDIT_RECORDER) private readonly audit?: AuditRecorder,
  ) {}

  async revoke(orgId: string, userNames: readonly string[]): Promise<void> {
    // A name that is no valid user id never got a token.
    for (const userId of userNames.filter((n) => userIdProblem(n) === null)) {
      const revoked = await this.revokeTokens.revokeUser({ caller: directoryCaller(orgId), userId });
      this.audit?.record({ type: 'admin', orgId, actor: { kind: 'directory', id: null }, action: 'directory.deprovision', target: userId, outcome: 'success', details: { revoked_tokens: revoked } });
    }
  }
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
