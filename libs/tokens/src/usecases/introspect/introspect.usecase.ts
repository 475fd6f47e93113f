import { Inject, Injectable } from '@nestjs/common';

import { AccessTokenClaims, AccessTokenVerifier } from '@signet/credentials';

import { SigningKeysService } from '../../signing-keys/signing-keys.service';
import { TOKEN_REPOSITORY, TokenRepository } from '../../token.repository';
import type { IntrospectTokenCommand } from './introspect.command';

/** The claims of a live token, or nothing (RFC 7662 §2.2: `active: false` says no more). */
export type Introspection = { active: false } | { active: true; claims: AccessTokenClaims };

/**
 * RFC 7662: `active` is true only for a token this server issued to the
 * caller's org, correctly signed, unexpired and unrevoked. Every other case,
 * including tokens of another org, is a bare `{ active: false }` (§2.2), so
 * introspection reveals nothing about tokens the caller does not own.
 */
@Injectable()
export class IntrospectTokenUseCase {
  private verifier: AccessTokenVerifier | undefined;

  constructor(
    @Inject(TOKEN_REPOSITORY) private readonly tokens: TokenRepository,
    @Inject(SigningKeysService) private readonly signingKeys: Pick<SigningKeysService, 'verifierKeyResolver'>,
  ) {}

  async execute(command: IntrospectTokenCommand): Promise<Introspection> {
    const inactive = { active: false } as const;
    // No clock tolerance: introspection is authoritative about expiry.
    this.verifier ??= new AccessTokenVerifier(this.signingKeys.verifierKeyResolver(), 0);
    let claims: AccessTokenClaims;
    try {
      claims = await this.verifier.verify(command.token);
    } catch {
      return inactive;
    }
    if (claims.org !== command.orgId) return inactive;
    const row = await this.tokens.findInOrg(claims.jti, command.orgId);
    if (!row || row.revokedAt !== null || row.expiresAt.getTime() <= Date.now()) return inactive;
    return { active: true, claims };
  }
}
