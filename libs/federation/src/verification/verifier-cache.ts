import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Logger } from 'pino';

import { LOGGER } from '@signet/http';

import { FEDERATION_OPTIONS, FederationOptions, resolveFederationOptions, ResolvedFederationOptions } from '../options';
import type { LoadedProvider } from '../providers/idp-providers.service';
import { OidcDiscovery } from '../verification/discovery';
import { JwksRegistry } from '../verification/jwks-cache';
import { createVerifier, IdpTokenVerifier, VerifierDeps } from '../verification/verifiers';

/** Verifiers kept per provider version: an update of the provider (new settings, new secret) builds a new one. */
const MAX_VERIFIERS = 1000;

/**
 * Process-wide verification state: one JWKS cache per key URL, one discovery
 * cache per issuer, one verifier per provider version.
 */
@Injectable()
export class VerifierCache {
  readonly options: ResolvedFederationOptions;
  private readonly deps: VerifierDeps;
  private readonly verifiers = new Map<string, { version: string; verifier: IdpTokenVerifier }>();

  constructor(@Inject(LOGGER) logger: Logger, @Optional() @Inject(FEDERATION_OPTIONS) options?: FederationOptions) {
    this.options = resolveFederationOptions(options);
    const log = logger.child({ component: 'federation' });
    const o = this.options;
    this.deps = {
      jwks: new JwksRegistry({
        timeoutMs: o.fetchTimeoutMs,
        maxBytes: o.maxFetchBytes,
        maxAgeMs: o.jwksMaxAgeMs,
        cooldownMs: o.refetchCooldownMs,
        onStale: (url, error) => log.warn({ url, err: error.message }, 'IdP keys could not be refreshed; serving the last good keys'),
      }),
      discovery: new OidcDiscovery({
        timeoutMs: o.fetchTimeoutMs,
        maxAgeMs: o.discoveryMaxAgeMs,
        cooldownMs: o.refetchCooldownMs,
        onStale: (issuer, error) => log.warn({ issuer, err: error.message }, 'OIDC discovery could not be refreshed; serving the last good metadata'),
      }),
      firebaseJwksUri: o.firebaseJwksUri,
      clockToleranceSeconds: o.clockToleranceSeconds,
    };
  }

  get(provider: LoadedProvider): IdpTokenVerifier {
    const cached = this.verifiers.get(provider.id);
    if (cached && cached.version === provider.version) return cached.verifier;
    const verifier = createVerifier(provider.kind, provider.settings, provider.secret, this.deps);
    if (this.verifiers.size >= MAX_VERIFIERS) this.verifiers.clear();
    this.verifiers.set(provider.id, { version: provider.version, verifier });
    return verifier;
  }
}
