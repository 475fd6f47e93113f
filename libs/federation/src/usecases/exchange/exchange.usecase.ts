import { Inject, Injectable, Optional } from '@nestjs/common';
import type { JWTPayload } from 'jose';
import type { Logger } from 'pino';

import { userIdProblem } from '@signet/credentials';
import { LOGGER } from '@signet/observability';
import { SECRET_BOX } from '@signet/persistence';
import type { SecretBox } from '@signet/persistence';
import { checkClientId, checkNoEscalation, ISSUANCE_GATE, IssuanceGate, IssuedCredentials, resolveTtl, TOKENS_OPTIONS, TokensOptions } from '@signet/tokens';

import { FEDERATION_ERRORS, refuse, unknownProvider } from '../../errors';
import { IDP_PROVIDER_REPOSITORY, IdpProviderRepository } from '../../idp-providers.repository';
import { LoadedProvider, loadedProvider } from '../../providers/provider';
import { claimAt, mapPermissions } from '../../roles';
import { TOKEN_ISSUANCE, TokenIssuance } from '../../token-issuance.repository';
import { VerifierCache } from '../../verification/verifier-cache';
import type { ExchangeCommand } from './exchange.command';

/**
 * IdP token → `tkn_` credentials: verify the token with the provider's pinned
 * keys and algorithms, read the user id and roles from its claims, map the
 * roles to topic permissions, and issue through the token service's
 * TokenIssuer, exactly as POST /v1/tokens would. In an org with a directory
 * (ISSUANCE_GATE), a directory user gets their groups' permissions instead
 * of the role mapping's: the IdP says who they are, the directory what they
 * may do; a deactivated or (per the org) unknown user is refused.
 */
@Injectable()
export class ExchangeUseCase {
  private readonly log: Logger;

  constructor(
    @Inject(IDP_PROVIDER_REPOSITORY) private readonly providers: IdpProviderRepository,
    @Inject(TOKEN_ISSUANCE) private readonly issuance: TokenIssuance,
    @Inject(SECRET_BOX) private readonly secretBox: SecretBox,
    // The token service's TTL limits, for its TTL policy (resolveTtl).
    @Inject(TOKENS_OPTIONS) private readonly tokens: TokensOptions,
    @Inject(LOGGER) logger: Logger,
    private readonly verifiers: VerifierCache,
    @Optional() @Inject(ISSUANCE_GATE) private readonly gate?: IssuanceGate,
  ) {
    this.log = logger.child({ component: 'federation' });
  }

  async execute(command: ExchangeCommand): Promise<IssuedCredentials> {
    const stored = await this.providers.findById(command.providerId);
    if (!stored || !stored.enabled || (command.caller && command.caller.orgId !== stored.orgId)) throw unknownProvider();
    const provider = loadedProvider(this.secretBox, stored);
    let claims: JWTPayload;
    try {
      claims = await this.verifiers.get(provider).verify(command.idToken);
    } catch (err) {
      // The code and provider only: never the token.
      const code = (err as { code?: unknown }).code;
      this.log.info({ providerId: provider.id, kind: provider.kind, code: typeof code === 'string' ? code : 'error' }, 'IdP token refused');
      throw err;
    }
    const userId = userIdOf(provider, claims);
    const mapped = mapPermissions(provider.settings, claims);
    const { roles } = mapped;
    // Not `explicit`: the mapping is the provider's default for everyone, not a narrowing the caller asked for.
    const permissions = this.gate ? await this.gate.permissionsFor(provider.orgId, userId, mapped.permissions, false) : mapped.permissions;
    const clientId = checkClientId(command.clientId);
    if (command.caller) checkNoEscalation(command.caller, permissions);
    const credentials = await this.issuance.issueInOrg(provider.orgId, unknownProvider, (org) => ({
      userId,
      clientId,
      permissions,
      ttlSeconds: resolveTtl(command.ttlSeconds, this.tokens, org.maxTokenTtlSeconds),
      // So the IdP's sign-out events (/v1/idp-events) find this token.
      idp: { providerId: provider.id, sessionId: idpSessionOf(claims), subject: boundedClaim(claims.sub) },
    }));
    this.log.info({ providerId: provider.id, kind: provider.kind, userId, roles, tokenId: credentials.tokenId }, 'IdP token exchanged');
    return credentials;
  }
}

function userIdOf(provider: LoadedProvider, claims: JWTPayload): string {
  const path = provider.settings.user_id_claim;
  const value = claimAt(claims, path);
  if (typeof value !== 'string') throw refuse(FEDERATION_ERRORS.invalidUserClaim, `the token has no string claim ${path}`);
  const problem = userIdProblem(value);
  if (problem) throw refuse(FEDERATION_ERRORS.invalidUserClaim, `the user id claim ${path} ${problem}`);
  return value;
}

/** The longest IdP session or subject id remembered; a longer one is not matched (column width). */
const MAX_IDP_ID_LENGTH = 256;
const boundedClaim = (value: unknown): string | null => (typeof value === 'string' && value.length > 0 && value.length <= MAX_IDP_ID_LENGTH ? value : null);

/** Supabase puts the session in `session_id`; OIDC (and Clerk) in `sid`. */
const idpSessionOf = (claims: JWTPayload): string | null => boundedClaim(claims['session_id']) ?? boundedClaim(claims['sid']);
